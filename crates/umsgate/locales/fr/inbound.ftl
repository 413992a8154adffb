# umsgate inbound mail strings: French. The ids and variables are those of
# en/inbound.ftl, which describes them.

## Names

service-fax = Fax
service-sms = SMS
service-voice = Message vocal
# The caller when the engine signalled no calling number.
unknown-caller = inconnu

## Subject

subject = { $service_name } de { $caller }
# A fax whose pages were counted. $pages
subject-pages = { $service_name } de { $caller } ({ $pages ->
    [1] { $pages } page
   *[other] { $pages } pages
})

## Body

heading = { $service_name } de { $caller }
label-from = De
label-to = À
label-received = Reçu
label-pages = Pages
label-duration = Durée
# $seconds
duration = { $seconds } s
# In place of the SMS text: the fax or voice message is the attachment.
attached = Le message est en pièce jointe.

## HTML part

# The alternative text of a fax page's preview image. $page
preview-alt = Page { $page }
# Below the previews: pages of the fax that are not shown. $count (at least 1)
more-pages = { $count ->
    [1] Une page de plus
   *[other] { $count } pages de plus
} dans la pièce jointe.
# In place of the previews when the fax's pages cannot be decoded.
no-preview = Aucun aperçu de ce fax ne peut être affiché. Le fax est en pièce jointe.
footer = Ce message a été reçu et distribué automatiquement par umsgate.
