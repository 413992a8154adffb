# umsgate inbound mail strings: German. The ids and variables are those of
# en/inbound.ftl, which describes them.

## Names

service-fax = Fax
service-sms = SMS
service-voice = Sprachnachricht
# The caller when the engine signalled no calling number.
unknown-caller = unbekannt

## Subject

subject = { $service_name } von { $caller }
# A fax whose pages were counted. $pages
subject-pages = { $service_name } von { $caller } ({ $pages ->
    [1] { $pages } Seite
   *[other] { $pages } Seiten
})

## Body

heading = { $service_name } von { $caller }
label-from = Von
label-to = An
label-received = Empfangen
label-pages = Seiten
label-duration = Dauer
# $seconds
duration = { $seconds } s
# In place of the SMS text: the fax or voice message is the attachment.
attached = Die Nachricht ist angehängt.

## HTML part

# The alternative text of a fax page's preview image. $page
preview-alt = Seite { $page }
# Below the previews: pages of the fax that are not shown. $count (at least 1)
more-pages = { $count ->
    [1] Eine weitere Seite
   *[other] { $count } weitere Seiten
} im Anhang.
# In place of the previews when the fax's pages cannot be decoded.
no-preview = Für dieses Fax kann keine Vorschau angezeigt werden. Das Fax ist angehängt.
footer = Diese Nachricht wurde von umsgate empfangen und automatisch zugestellt.
