# umsgate report strings: Portuguese. Same ids as en/reports.ftl (see there for the variables).

## Names

service-fax = Fax
service-sms = SMS
service-voice = Mensagem de voz

class-internal = números internos
class-local = números locais
class-national = números nacionais
class-international = números internacionais

right-none = nenhum
right-internal = interno
right-local = local
right-national = nacional
right-international = internacional

## Values

datetime = { $day }/{ $month }/{ $year } { $hour }:{ $minute } UTC
pages = { $pages ->
    [one] { $pages } página
   *[other] { $pages } páginas
}
duration = { $minutes ->
    [0] { $seconds } s
   *[other] { $minutes } min { $seconds } s
}
no-subject = (sem assunto)
unnamed-attachment = sem nome
unknown-reason = nenhum motivo indicado

## Subjects

subject-sent = { $service_name } para { $number }: { $service ->
    [fax] enviado
   *[other] enviada
}
subject-failed = { $service_name } para { $number }: não entregue
subject-refused = { $service_name } para { $number }: { $service ->
    [fax] recusado
   *[other] recusada
}
subject-with-original = { $report } – { $subject }

## Headings and first sentences

heading-sent = { $service_name } { $service ->
    [fax] enviado
   *[other] enviada
}
heading-failed = { $service_name } não entregue
heading-refused = { $service_name } { $service ->
    [fax] recusado
   *[other] recusada
}

intro-sent = { $service ->
    [sms] A sua SMS para { $number } foi entregue.
    [voice] A sua mensagem de voz para { $number } foi entregue.
   *[other] O seu fax para { $number } foi enviado.
}
intro-failed = { $service ->
    [sms] Não foi possível entregar a sua SMS para { $number }.
    [voice] Não foi possível entregar a sua mensagem de voz para { $number }.
   *[other] Não foi possível enviar o seu fax para { $number }.
}
intro-refused = { $service ->
    [sms] A sua SMS para { $number } não foi enviada.
    [voice] A sua mensagem de voz para { $number } não foi enviada.
   *[other] O seu fax para { $number } não foi enviado.
}
failed-hint = Verifique o número e volte a enviar a sua mensagem mais tarde. Se voltar a falhar, contacte o seu administrador.

## Labels of the details

label-service = Serviço
label-number = Número
label-address = Enviado para
label-subject = Assunto
label-job = Tarefa
label-time = Data
label-pages = Páginas
label-duration = Duração
label-attempts = Tentativas
label-remote-id = { $service ->
    [fax] Estação remota
   *[other] Referência
}
label-reason = Motivo
label-hint = O que pode fazer

footer = Este relatório foi criado automaticamente pelo umsgate. Por favor, não responda.

## Why a message was refused, and what the user can do about it

refusal-unknown-sender = O endereço de remetente { $sender } não está registado para o envio de faxes, SMS ou mensagens de voz.
refusal-unknown-sender-hint = Envie a sua mensagem a partir do endereço de e-mail registado para si, ou peça ao seu administrador que registe { $sender }.

refusal-no-right = Os seus direitos não abrangem este número: o seu direito de { $service ->
    [sms] SMS
    [voice] mensagens de voz
   *[other] fax
} é «{ $right }», mas { $number } requer «{ $needed }».
refusal-no-right-hint = Peça ao seu administrador o direito de enviar { $service ->
    [sms] SMS
    [voice] mensagens de voz
   *[other] faxes
} para { $class }.

refusal-emergency-mode = O sistema está em modo de emergência: de momento só os utilizadores com prioridade podem enviar.
refusal-emergency-mode-hint = Volte a enviar a sua mensagem quando o modo de emergência terminar, ou peça ao seu administrador acesso prioritário.

refusal-daily-limit = Atingiu o seu limite diário de { $service ->
    [sms] SMS
    [voice] mensagens de voz
   *[other] faxes
} ({ $limit }).
refusal-daily-limit-hint = Volte a enviar a sua mensagem amanhã, ou peça ao seu administrador um limite diário mais alto.

refusal-too-many-pages = O fax teria { $pages } páginas, mas pode enviar no máximo { $max ->
    [one] { $max } página
   *[other] { $max } páginas
} por fax.
refusal-too-many-pages-hint = Divida o documento em vários faxes de no máximo { $max ->
    [one] { $max } página
   *[other] { $max } páginas
} cada, ou peça ao seu administrador um limite de páginas mais alto.

refusal-unsupported-attachment = O anexo «{ $name }» ({ $content_type }) não pode ser convertido para envio.
refusal-unsupported-attachment-hint = { $service ->
    [voice] Anexe a gravação como ficheiro WAV e volte a enviar a sua mensagem.
   *[other] Converta o anexo para PDF e volte a enviar a sua mensagem, ou pergunte ao seu administrador quais os formatos suportados.
}

refusal-empty-message = O e-mail não contém nada que possa ser enviado: nem texto nem um anexo utilizável.
refusal-empty-message-hint = { $service ->
    [sms] Escreva o texto da SMS no corpo do e-mail.
    [voice] Escreva o texto a ser falado no corpo do e-mail, ou anexe um ficheiro WAV.
   *[other] Escreva o seu texto no corpo do e-mail, ou anexe um documento, por exemplo um ficheiro PDF.
}

refusal-sms-too-long = O texto precisa de { $segments } partes de SMS, mas só podem ser enviadas no máximo { $max }.
refusal-sms-too-long-hint = Encurte o texto e volte a enviá-lo, ou envie-o em várias mensagens.

refusal-no-voice-content = Uma mensagem de voz precisa de um anexo WAV ou de um texto a ser falado; o e-mail não tem nenhum dos dois.
refusal-no-voice-content-hint = Anexe um ficheiro WAV, ou escreva o texto a ser falado no corpo do e-mail.

refusal-bad-number = O número «{ $bad_number }» em { $address } não pode ser marcado ({ $detail }).
refusal-bad-number-hint = Verifique o número no endereço do destinatário; escreva-o em formato internacional com + e o indicativo do país, sem letras.

refusal-malformed = Não foi possível ler o seu e-mail ({ $detail }).
refusal-malformed-hint = Volte a enviar a sua mensagem; se for muito grande, sem alguns dos anexos. Se voltar a falhar, contacte o seu administrador.
