# umsgate inbound mail strings: Dutch. The ids and variables are those of
# en/inbound.ftl, which describes them.

## Names

service-fax = Fax
service-sms = Sms
service-voice = Spraakbericht
# The caller when the engine signalled no calling number.
unknown-caller = onbekend

## Subject

subject = { $service_name } van { $caller }
# A fax whose pages were counted. $pages
subject-pages = { $service_name } van { $caller } ({ $pages ->
    [1] { $pages } pagina
   *[other] { $pages } pagina's
})

## Body

heading = { $service_name } van { $caller }
label-from = Van
label-to = Aan
label-received = Ontvangen
label-pages = Pagina's
label-duration = Duur
# $seconds
duration = { $seconds } s
# In place of the SMS text: the fax or voice message is the attachment.
attached = Het bericht is bijgevoegd.

## HTML part

# The alternative text of a fax page's preview image. $page
preview-alt = Pagina { $page }
# Below the previews: pages of the fax that are not shown. $count (at least 1)
more-pages = { $count ->
    [1] Nog één pagina
   *[other] Nog { $count } pagina's
} in de bijlage.
# In place of the previews when the fax's pages cannot be decoded.
no-preview = Van deze fax kan geen voorbeeld worden getoond. De fax is bijgevoegd.
footer = Dit bericht is automatisch ontvangen en bezorgd door umsgate.
