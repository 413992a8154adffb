# umsgate report strings: Spanish. Same ids as en/reports.ftl (see there for the variables).

## Names

service-fax = Fax
service-sms = SMS
service-voice = Mensaje de voz

class-internal = números internos
class-local = números locales
class-national = números nacionales
class-international = números internacionales

right-none = ninguno
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
no-subject = (sin asunto)
unnamed-attachment = sin nombre
unknown-reason = no se indicó ningún motivo

## Subjects

subject-sent = { $service_name } a { $number }: enviado
subject-failed = { $service_name } a { $number }: no entregado
subject-refused = { $service_name } a { $number }: rechazado
subject-with-original = { $report } – { $subject }

## Headings and first sentences

heading-sent = { $service_name } enviado
heading-failed = { $service_name } no entregado
heading-refused = { $service_name } rechazado

intro-sent = { $service ->
    [sms] Su SMS a { $number } se ha entregado.
    [voice] Su mensaje de voz a { $number } se ha entregado.
   *[other] Su fax a { $number } se ha enviado.
}
intro-failed = { $service ->
    [sms] No se ha podido entregar su SMS a { $number }.
    [voice] No se ha podido entregar su mensaje de voz a { $number }.
   *[other] No se ha podido enviar su fax a { $number }.
}
intro-refused = { $service ->
    [sms] Su SMS a { $number } no se ha enviado.
    [voice] Su mensaje de voz a { $number } no se ha enviado.
   *[other] Su fax a { $number } no se ha enviado.
}
failed-hint = Compruebe el número y vuelva a enviar su mensaje más tarde. Si vuelve a fallar, póngase en contacto con su administrador.

## Labels of the details

label-service = Servicio
label-number = Número
label-address = Enviado a
label-subject = Asunto
label-job = Trabajo
label-time = Fecha
label-pages = Páginas
label-duration = Duración
label-attempts = Intentos
label-remote-id = { $service ->
    [fax] Estación remota
   *[other] Referencia
}
label-reason = Motivo
label-hint = Qué puede hacer

footer = Este informe ha sido creado automáticamente por umsgate. Por favor, no responda a él.

## Why a message was refused, and what the user can do about it

refusal-unknown-sender = La dirección de remitente { $sender } no está registrada para enviar faxes, SMS o mensajes de voz.
refusal-unknown-sender-hint = Envíe su mensaje desde la dirección de correo registrada para usted, o pida a su administrador que registre { $sender }.

refusal-no-right = Sus derechos no cubren este número: su derecho de { $service ->
    [sms] SMS
    [voice] mensajes de voz
   *[other] fax
} es «{ $right }», pero { $number } requiere «{ $needed }».
refusal-no-right-hint = Pida a su administrador el derecho a enviar { $service ->
    [sms] SMS
    [voice] mensajes de voz
   *[other] faxes
} a { $class }.

refusal-emergency-mode = El sistema está en modo de emergencia: en este momento solo pueden enviar los usuarios con prioridad.
refusal-emergency-mode-hint = Vuelva a enviar su mensaje cuando haya terminado el modo de emergencia, o pida a su administrador acceso prioritario.

refusal-daily-limit = Ha alcanzado su límite diario de { $service ->
    [sms] SMS
    [voice] mensajes de voz
   *[other] faxes
} ({ $limit }).
refusal-daily-limit-hint = Vuelva a enviar su mensaje mañana, o pida a su administrador un límite diario más alto.

refusal-too-many-pages = El fax tendría { $pages } páginas, pero puede enviar como máximo { $max ->
    [one] { $max } página
   *[other] { $max } páginas
} por fax.
refusal-too-many-pages-hint = Divida el documento en varios faxes de como máximo { $max ->
    [one] { $max } página
   *[other] { $max } páginas
} cada uno, o pida a su administrador un límite de páginas más alto.

refusal-unsupported-attachment = El archivo adjunto «{ $name }» ({ $content_type }) no se puede convertir para el envío.
refusal-unsupported-attachment-hint = { $service ->
    [voice] Adjunte la grabación como archivo WAV y vuelva a enviar su mensaje.
   *[other] Convierta el archivo adjunto a PDF y vuelva a enviar su mensaje, o pregunte a su administrador qué formatos se admiten.
}

refusal-empty-message = El correo no contiene nada que se pueda enviar: ni texto ni un archivo adjunto utilizable.
refusal-empty-message-hint = { $service ->
    [sms] Escriba el texto del SMS en el cuerpo del correo.
    [voice] Escriba el texto que se debe pronunciar en el cuerpo del correo, o adjunte un archivo WAV.
   *[other] Escriba su texto en el cuerpo del correo, o adjunte un documento, por ejemplo un archivo PDF.
}

refusal-sms-too-long = El texto necesita { $segments } partes de SMS, pero se pueden enviar como máximo { $max }.
refusal-sms-too-long-hint = Acorte el texto y vuelva a enviarlo, o envíelo en varios mensajes.

refusal-no-voice-content = Un mensaje de voz necesita un archivo WAV adjunto o un texto que pronunciar; el correo no tiene ninguno de los dos.
refusal-no-voice-content-hint = Adjunte un archivo WAV, o escriba el texto que se debe pronunciar en el cuerpo del correo.

refusal-bad-number = El número «{ $bad_number }» en { $address } no se puede marcar ({ $detail }).
refusal-bad-number-hint = Compruebe el número en la dirección del destinatario; escríbalo en formato internacional con + y el prefijo del país, sin letras.

refusal-malformed = No se ha podido leer su correo ({ $detail }).
refusal-malformed-hint = Vuelva a enviar su mensaje; si es muy grande, sin algunos de los archivos adjuntos. Si vuelve a fallar, póngase en contacto con su administrador.
