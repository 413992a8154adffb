# umsgate report strings: Italian. Same ids as en/reports.ftl (see there for the variables).

## Names

service-fax = Fax
service-sms = SMS
service-voice = Messaggio vocale

class-internal = numeri interni
class-local = numeri locali
class-national = numeri nazionali
class-international = numeri internazionali

right-none = nessuno
right-internal = interno
right-local = locale
right-national = nazionale
right-international = internazionale

## Values

datetime = { $day }/{ $month }/{ $year } { $hour }:{ $minute } UTC
pages = { $pages ->
    [one] { $pages } pagina
   *[other] { $pages } pagine
}
duration = { $minutes ->
    [0] { $seconds } s
   *[other] { $minutes } min { $seconds } s
}
no-subject = (nessun oggetto)
unnamed-attachment = senza nome
unknown-reason = nessun motivo indicato

## Subjects

subject-sent = { $service_name } a { $number }: inviato
subject-failed = { $service_name } a { $number }: non recapitato
subject-refused = { $service_name } a { $number }: rifiutato
subject-with-original = { $report } – { $subject }

## Headings and first sentences

heading-sent = { $service_name } inviato
heading-failed = { $service_name } non recapitato
heading-refused = { $service_name } rifiutato

intro-sent = { $service ->
    [sms] Il suo SMS a { $number } è stato recapitato.
    [voice] Il suo messaggio vocale a { $number } è stato recapitato.
   *[other] Il suo fax a { $number } è stato inviato.
}
intro-failed = { $service ->
    [sms] Non è stato possibile recapitare il suo SMS a { $number }.
    [voice] Non è stato possibile recapitare il suo messaggio vocale a { $number }.
   *[other] Non è stato possibile inviare il suo fax a { $number }.
}
intro-refused = { $service ->
    [sms] Il suo SMS a { $number } non è stato inviato.
    [voice] Il suo messaggio vocale a { $number } non è stato inviato.
   *[other] Il suo fax a { $number } non è stato inviato.
}
failed-hint = Controlli il numero e invii di nuovo il messaggio più tardi. Se non riesce di nuovo, si rivolga al suo amministratore.

## Labels of the details

label-service = Servizio
label-number = Numero
label-address = Inviato a
label-subject = Oggetto
label-job = Lavoro
label-time = Data
label-pages = Pagine
label-duration = Durata
label-attempts = Tentativi
label-remote-id = { $service ->
    [fax] Stazione remota
   *[other] Riferimento
}
label-reason = Motivo
label-hint = Che cosa può fare

footer = Questo rapporto è stato creato automaticamente da umsgate. La preghiamo di non rispondere.

## Why a message was refused, and what the user can do about it

refusal-unknown-sender = L’indirizzo del mittente { $sender } non è registrato per l’invio di fax, SMS o messaggi vocali.
refusal-unknown-sender-hint = Invii il messaggio dall’indirizzo e-mail registrato per lei, oppure chieda al suo amministratore di registrare { $sender }.

refusal-no-right = I suoi diritti non coprono questo numero: il suo diritto { $service ->
    [sms] SMS
    [voice] per i messaggi vocali
   *[other] fax
} è «{ $right }», ma { $number } richiede «{ $needed }».
refusal-no-right-hint = Chieda al suo amministratore il diritto di inviare { $service ->
    [sms] SMS
    [voice] messaggi vocali
   *[other] fax
} a { $class }.

refusal-emergency-mode = Il sistema è in modalità di emergenza: al momento possono inviare solo gli utenti con priorità.
refusal-emergency-mode-hint = Invii di nuovo il messaggio al termine della modalità di emergenza, oppure chieda al suo amministratore l’accesso prioritario.

refusal-daily-limit = Ha raggiunto il suo limite giornaliero di { $service ->
    [sms] SMS
    [voice] messaggi vocali
   *[other] fax
} ({ $limit }).
refusal-daily-limit-hint = Invii di nuovo il messaggio domani, oppure chieda al suo amministratore un limite giornaliero più alto.

refusal-too-many-pages = Il fax avrebbe { $pages } pagine, ma lei può inviare al massimo { $max ->
    [one] { $max } pagina
   *[other] { $max } pagine
} per fax.
refusal-too-many-pages-hint = Divida il documento in più fax di al massimo { $max ->
    [one] { $max } pagina
   *[other] { $max } pagine
} ciascuno, oppure chieda al suo amministratore un limite di pagine più alto.

refusal-unsupported-attachment = L’allegato «{ $name }» ({ $content_type }) non può essere convertito per l’invio.
refusal-unsupported-attachment-hint = { $service ->
    [voice] Alleghi la registrazione come file WAV e invii di nuovo il messaggio.
   *[other] Converta l’allegato in PDF e invii di nuovo il messaggio, oppure chieda al suo amministratore quali formati sono supportati.
}

refusal-empty-message = La mail non contiene nulla che si possa inviare: né testo né un allegato utilizzabile.
refusal-empty-message-hint = { $service ->
    [sms] Scriva il testo dell’SMS nel corpo della mail.
    [voice] Scriva il testo da pronunciare nel corpo della mail, oppure alleghi un file WAV.
   *[other] Scriva il testo nel corpo della mail, oppure alleghi un documento, per esempio un file PDF.
}

refusal-sms-too-long = Il testo richiede { $segments } parti SMS, ma se ne possono inviare al massimo { $max }.
refusal-sms-too-long-hint = Accorci il testo e lo invii di nuovo, oppure lo invii in più messaggi.

refusal-no-voice-content = Un messaggio vocale richiede un allegato WAV o un testo da pronunciare; la mail non contiene né l’uno né l’altro.
refusal-no-voice-content-hint = Alleghi un file WAV, oppure scriva il testo da pronunciare nel corpo della mail.

refusal-bad-number = Il numero «{ $bad_number }» in { $address } non può essere composto ({ $detail }).
refusal-bad-number-hint = Controlli il numero nell’indirizzo del destinatario; lo scriva in formato internazionale con + e il prefisso del paese, senza lettere.

refusal-malformed = Non è stato possibile leggere la sua mail ({ $detail }).
refusal-malformed-hint = Invii di nuovo il messaggio; se è molto grande, senza alcuni allegati. Se non riesce di nuovo, si rivolga al suo amministratore.
