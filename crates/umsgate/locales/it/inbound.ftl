# umsgate inbound mail strings: Italian. The ids and variables are those of
# en/inbound.ftl, which describes them.

## Names

service-fax = Fax
service-sms = SMS
service-voice = Messaggio vocale
# The caller when the engine signalled no calling number.
unknown-caller = sconosciuto

## Subject

subject = { $service_name } da { $caller }
# A fax whose pages were counted. $pages
subject-pages = { $service_name } da { $caller } ({ $pages ->
    [1] { $pages } pagina
   *[other] { $pages } pagine
})

## Body

heading = { $service_name } da { $caller }
label-from = Da
label-to = A
label-received = Ricevuto
label-pages = Pagine
label-duration = Durata
# $seconds
duration = { $seconds } s
# In place of the SMS text: the fax or voice message is the attachment.
attached = Il messaggio è allegato.

## HTML part

# The alternative text of a fax page's preview image. $page
preview-alt = Pagina { $page }
# Below the previews: pages of the fax that are not shown. $count (at least 1)
more-pages = { $count ->
    [1] Un'altra pagina
   *[other] Altre { $count } pagine
} nell'allegato.
# In place of the previews when the fax's pages cannot be decoded.
no-preview = Non è possibile mostrare un'anteprima di questo fax. Il fax è allegato.
footer = Questo messaggio è stato ricevuto e recapitato automaticamente da umsgate.
