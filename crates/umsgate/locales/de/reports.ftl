# umsgate report strings: German. Same ids as en/reports.ftl (see there for the variables).

## Names

service-fax = Fax
service-sms = SMS
service-voice = Sprachnachricht

class-internal = interne Nummern
class-local = Ortsnummern
class-national = nationale Nummern
class-international = internationale Nummern

right-none = keine
right-internal = intern
right-local = Ortsbereich
right-national = national
right-international = international

## Values

datetime = { $day }.{ $month }.{ $year } { $hour }:{ $minute } UTC
pages = { $pages ->
    [one] { $pages } Seite
   *[other] { $pages } Seiten
}
duration = { $minutes ->
    [0] { $seconds } s
   *[other] { $minutes } min { $seconds } s
}
no-subject = (kein Betreff)
unnamed-attachment = ohne Namen
unknown-reason = kein Grund angegeben

## Subjects

subject-sent = { $service_name } an { $number }: gesendet
subject-failed = { $service_name } an { $number }: nicht zugestellt
subject-refused = { $service_name } an { $number }: abgelehnt
subject-with-original = { $report } – { $subject }

## Headings and first sentences

heading-sent = { $service_name } gesendet
heading-failed = { $service_name } nicht zugestellt
heading-refused = { $service_name } abgelehnt

intro-sent = { $service ->
    [sms] Ihre SMS an { $number } wurde zugestellt.
    [voice] Ihre Sprachnachricht an { $number } wurde zugestellt.
   *[other] Ihr Fax an { $number } wurde gesendet.
}
intro-failed = { $service ->
    [sms] Ihre SMS an { $number } konnte nicht zugestellt werden.
    [voice] Ihre Sprachnachricht an { $number } konnte nicht zugestellt werden.
   *[other] Ihr Fax an { $number } konnte nicht gesendet werden.
}
intro-refused = { $service ->
    [sms] Ihre SMS an { $number } wurde nicht gesendet.
    [voice] Ihre Sprachnachricht an { $number } wurde nicht gesendet.
   *[other] Ihr Fax an { $number } wurde nicht gesendet.
}
failed-hint = Prüfen Sie die Nummer und senden Sie Ihre Nachricht später noch einmal. Wenn es wieder nicht gelingt, wenden Sie sich bitte an Ihren Administrator.

## Labels of the details

label-service = Dienst
label-number = Nummer
label-address = Gesendet an
label-subject = Betreff
label-job = Auftrag
label-time = Zeitpunkt
label-pages = Seiten
label-duration = Dauer
label-attempts = Versuche
label-remote-id = { $service ->
    [fax] Gegenstelle
   *[other] Referenz
}
label-reason = Grund
label-hint = Was Sie tun können

footer = Dieser Bericht wurde automatisch von umsgate erstellt. Bitte antworten Sie nicht darauf.

## Why a message was refused, and what the user can do about it

refusal-unknown-sender = Die Absenderadresse { $sender } ist nicht für das Senden von Faxen, SMS oder Sprachnachrichten eingetragen.
refusal-unknown-sender-hint = Senden Sie Ihre Nachricht von der für Sie eingetragenen Mailadresse, oder bitten Sie Ihren Administrator, { $sender } einzutragen.

refusal-no-right = Ihre Rechte reichen für diese Nummer nicht: Ihr { $service ->
    [sms] SMS-Recht
    [voice] Recht für Sprachnachrichten
   *[other] Fax-Recht
} ist „{ $right }“, { $number } erfordert aber „{ $needed }“.
refusal-no-right-hint = Bitten Sie Ihren Administrator um das Recht, { $service ->
    [sms] SMS
    [voice] Sprachnachrichten
   *[other] Faxe
} an { $class } zu senden.

refusal-emergency-mode = Das System ist im Notbetrieb: zurzeit dürfen nur Benutzer mit Vorrang senden.
refusal-emergency-mode-hint = Senden Sie Ihre Nachricht noch einmal, wenn der Notbetrieb beendet ist, oder bitten Sie Ihren Administrator um Vorrang.

refusal-daily-limit = Sie haben Ihr Tageslimit für { $service ->
    [sms] SMS
    [voice] Sprachnachrichten
   *[other] Faxe
} ({ $limit }) erreicht.
refusal-daily-limit-hint = Senden Sie Ihre Nachricht morgen noch einmal, oder bitten Sie Ihren Administrator um ein höheres Tageslimit.

refusal-too-many-pages = Das Fax hätte { $pages } Seiten, Sie dürfen aber höchstens { $max ->
    [one] { $max } Seite
   *[other] { $max } Seiten
} pro Fax senden.
refusal-too-many-pages-hint = Teilen Sie das Dokument auf mehrere Faxe mit jeweils höchstens { $max ->
    [one] { $max } Seite
   *[other] { $max } Seiten
} auf, oder bitten Sie Ihren Administrator um ein höheres Seitenlimit.

refusal-unsupported-attachment = Der Anhang „{ $name }“ ({ $content_type }) kann nicht für den Versand umgewandelt werden.
refusal-unsupported-attachment-hint = { $service ->
    [voice] Hängen Sie die Aufnahme als WAV-Datei an und senden Sie Ihre Nachricht noch einmal.
   *[other] Wandeln Sie den Anhang in PDF um und senden Sie Ihre Nachricht noch einmal, oder fragen Sie Ihren Administrator, welche Formate unterstützt werden.
}

refusal-empty-message = Die Mail enthält nichts, was gesendet werden könnte: keinen Text und keinen verwendbaren Anhang.
refusal-empty-message-hint = { $service ->
    [sms] Schreiben Sie den SMS-Text in den Text der Mail.
    [voice] Schreiben Sie den zu sprechenden Text in den Text der Mail, oder hängen Sie eine WAV-Datei an.
   *[other] Schreiben Sie Ihren Text in den Text der Mail, oder hängen Sie ein Dokument an, zum Beispiel eine PDF-Datei.
}

refusal-sms-too-long = Der Text braucht { $segments } SMS-Teile, es dürfen aber höchstens { $max } gesendet werden.
refusal-sms-too-long-hint = Kürzen Sie den Text und senden Sie ihn noch einmal, oder senden Sie ihn als mehrere Nachrichten.

refusal-no-voice-content = Eine Sprachnachricht braucht einen WAV-Anhang oder einen zu sprechenden Text; die Mail hat keins von beidem.
refusal-no-voice-content-hint = Hängen Sie eine WAV-Datei an, oder schreiben Sie den zu sprechenden Text in den Text der Mail.

refusal-bad-number = Die Nummer „{ $bad_number }“ in { $address } kann nicht gewählt werden ({ $detail }).
refusal-bad-number-hint = Prüfen Sie die Nummer in der Empfängeradresse; schreiben Sie sie international mit + und Landesvorwahl, ohne Buchstaben.

refusal-malformed = Ihre Mail konnte nicht gelesen werden ({ $detail }).
refusal-malformed-hint = Senden Sie Ihre Nachricht noch einmal; wenn sie sehr groß ist, ohne einige der Anhänge. Wenn es wieder nicht gelingt, wenden Sie sich bitte an Ihren Administrator.
