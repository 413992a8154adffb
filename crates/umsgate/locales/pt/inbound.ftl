# umsgate inbound mail strings: Portuguese. The ids and variables are those of
# en/inbound.ftl, which describes them.

## Names

service-fax = Fax
service-sms = SMS
service-voice = Mensagem de voz
# The caller when the engine signalled no calling number.
unknown-caller = desconhecido

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
label-received = Recebido
label-pages = Páginas
label-duration = Duração
# $seconds
duration = { $seconds } s
# In place of the SMS text: the fax or voice message is the attachment.
attached = A mensagem está em anexo.

## HTML part

# The alternative text of a fax page's preview image. $page
preview-alt = Página { $page }
# Below the previews: pages of the fax that are not shown. $count (at least 1)
more-pages = { $count ->
    [1] Mais uma página
   *[other] Mais { $count } páginas
} no anexo.
# In place of the previews when the fax's pages cannot be decoded.
no-preview = Não é possível mostrar uma pré-visualização deste fax. O fax está em anexo.
footer = Esta mensagem foi recebida e entregue automaticamente pelo umsgate.
