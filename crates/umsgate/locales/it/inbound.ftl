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
label-to = A
label-received = Ricevuto
label-pages = Pagine
label-duration = Durata
# $seconds
duration = { $seconds } s
# In place of the SMS text: the fax or voice message is the attachment.
attached = Il messaggio è allegato.
