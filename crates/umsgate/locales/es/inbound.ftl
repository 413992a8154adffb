# umsgate inbound mail strings: Spanish. The ids and variables are those of
# en/inbound.ftl, which describes them.

## Names

service-fax = Fax
service-sms = SMS
service-voice = Mensaje de voz
# The caller when the engine signalled no calling number.
unknown-caller = desconocido

## Subject

subject = { $service_name } de { $caller }
# A fax whose pages were counted. $pages
subject-pages = { $service_name } de { $caller } ({ $pages ->
    [1] { $pages } página
   *[other] { $pages } páginas
})

## Body

heading = { $service_name } de { $caller }
label-from = De
label-to = Para
label-received = Recibido
label-pages = Páginas
label-duration = Duración
# $seconds
duration = { $seconds } s
# In place of the SMS text: the fax or voice message is the attachment.
attached = El mensaje va adjunto.

## HTML part

# The alternative text of a fax page's preview image. $page
preview-alt = Página { $page }
# Below the previews: pages of the fax that are not shown. $count (at least 1)
more-pages = { $count ->
    [1] Una página más
   *[other] { $count } páginas más
} en el adjunto.
# In place of the previews when the fax's pages cannot be decoded.
no-preview = No se puede mostrar una vista previa de este fax. El fax va adjunto.
footer = Este mensaje ha sido recibido y entregado automáticamente por umsgate.
