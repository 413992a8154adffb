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
label-to = À
label-received = Reçu
label-pages = Pages
label-duration = Durée
# $seconds
duration = { $seconds } s
# In place of the SMS text: the fax or voice message is the attachment.
attached = Le message est en pièce jointe.
