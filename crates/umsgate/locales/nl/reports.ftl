# umsgate report strings: Dutch. Same ids as en/reports.ftl (see there for the variables).

## Names

service-fax = Fax
service-sms = Sms
service-voice = Spraakbericht

class-internal = interne nummers
class-local = lokale nummers
class-national = nationale nummers
class-international = internationale nummers

right-none = geen
right-internal = intern
right-local = lokaal
right-national = nationaal
right-international = internationaal

## Values

datetime = { $day }-{ $month }-{ $year } { $hour }:{ $minute } UTC
pages = { $pages ->
    [one] { $pages } pagina
   *[other] { $pages } pagina's
}
duration = { $minutes ->
    [0] { $seconds } s
   *[other] { $minutes } min { $seconds } s
}
no-subject = (geen onderwerp)
unnamed-attachment = zonder naam
unknown-reason = geen reden opgegeven

## Subjects

subject-sent = { $service_name } naar { $number }: verzonden
subject-failed = { $service_name } naar { $number }: niet afgeleverd
subject-refused = { $service_name } naar { $number }: geweigerd
subject-with-original = { $report } – { $subject }

## Headings and first sentences

heading-sent = { $service_name } verzonden
heading-failed = { $service_name } niet afgeleverd
heading-refused = { $service_name } geweigerd

intro-sent = { $service ->
    [sms] Uw sms naar { $number } is afgeleverd.
    [voice] Uw spraakbericht naar { $number } is afgeleverd.
   *[other] Uw fax naar { $number } is verzonden.
}
intro-failed = { $service ->
    [sms] Uw sms naar { $number } kon niet worden afgeleverd.
    [voice] Uw spraakbericht naar { $number } kon niet worden afgeleverd.
   *[other] Uw fax naar { $number } kon niet worden verzonden.
}
intro-refused = { $service ->
    [sms] Uw sms naar { $number } is niet verzonden.
    [voice] Uw spraakbericht naar { $number } is niet verzonden.
   *[other] Uw fax naar { $number } is niet verzonden.
}
failed-hint = Controleer het nummer en verstuur uw bericht later opnieuw. Als het weer mislukt, neem dan contact op met uw beheerder.

## Labels of the details

label-service = Dienst
label-number = Nummer
label-address = Verzonden aan
label-subject = Onderwerp
label-job = Opdracht
label-time = Tijdstip
label-pages = Pagina's
label-duration = Duur
label-attempts = Pogingen
label-remote-id = { $service ->
    [fax] Tegenstation
   *[other] Referentie
}
label-reason = Reden
label-hint = Wat u kunt doen

footer = Dit rapport is automatisch gemaakt door umsgate. Gelieve er niet op te antwoorden.

## Why a message was refused, and what the user can do about it

refusal-unknown-sender = Het afzenderadres { $sender } is niet geregistreerd voor het verzenden van faxen, sms'jes of spraakberichten.
refusal-unknown-sender-hint = Verstuur uw bericht vanaf het e-mailadres dat voor u is geregistreerd, of vraag uw beheerder om { $sender } te registreren.

refusal-no-right = Uw rechten zijn niet toereikend voor dit nummer: uw { $service ->
    [sms] sms-recht
    [voice] recht voor spraakberichten
   *[other] faxrecht
} is ‘{ $right }’, maar { $number } vereist ‘{ $needed }’.
refusal-no-right-hint = Vraag uw beheerder om het recht om { $service ->
    [sms] sms'jes
    [voice] spraakberichten
   *[other] faxen
} naar { $class } te versturen.

refusal-emergency-mode = Het systeem staat in de noodmodus: op dit moment mogen alleen gebruikers met voorrang verzenden.
refusal-emergency-mode-hint = Verstuur uw bericht opnieuw als de noodmodus is beëindigd, of vraag uw beheerder om voorrang.

refusal-daily-limit = U hebt uw daglimiet voor { $service ->
    [sms] sms'jes
    [voice] spraakberichten
   *[other] faxen
} ({ $limit }) bereikt.
refusal-daily-limit-hint = Verstuur uw bericht morgen opnieuw, of vraag uw beheerder om een hogere daglimiet.

refusal-too-many-pages = De fax zou { $pages } pagina's hebben, maar u mag maximaal { $max ->
    [one] { $max } pagina
   *[other] { $max } pagina's
} per fax versturen.
refusal-too-many-pages-hint = Verdeel het document over meerdere faxen van maximaal { $max ->
    [one] { $max } pagina
   *[other] { $max } pagina's
} elk, of vraag uw beheerder om een hogere paginalimiet.

refusal-unsupported-attachment = De bijlage ‘{ $name }’ ({ $content_type }) kan niet worden omgezet om te verzenden.
refusal-unsupported-attachment-hint = { $service ->
    [voice] Voeg de opname toe als WAV-bestand en verstuur uw bericht opnieuw.
   *[other] Zet de bijlage om naar pdf en verstuur uw bericht opnieuw, of vraag uw beheerder welke formaten worden ondersteund.
}

refusal-empty-message = De e-mail bevat niets wat verzonden kan worden: geen tekst en geen bruikbare bijlage.
refusal-empty-message-hint = { $service ->
    [sms] Schrijf de tekst van de sms in de e-mail.
    [voice] Schrijf de uit te spreken tekst in de e-mail, of voeg een WAV-bestand toe.
   *[other] Schrijf uw tekst in de e-mail, of voeg een document toe, bijvoorbeeld een pdf-bestand.
}

refusal-sms-too-long = De tekst heeft { $segments } sms-delen nodig, maar er mogen er maximaal { $max } worden verzonden.
refusal-sms-too-long-hint = Maak de tekst korter en verstuur hem opnieuw, of verstuur hem als meerdere berichten.

refusal-no-voice-content = Een spraakbericht heeft een WAV-bijlage of een uit te spreken tekst nodig; de e-mail heeft geen van beide.
refusal-no-voice-content-hint = Voeg een WAV-bestand toe, of schrijf de uit te spreken tekst in de e-mail.

refusal-bad-number = Het nummer ‘{ $bad_number }’ in { $address } kan niet worden gekozen ({ $detail }).
refusal-bad-number-hint = Controleer het nummer in het adres van de ontvanger; schrijf het internationaal met + en de landcode, zonder letters.

refusal-malformed = Uw e-mail kon niet worden gelezen ({ $detail }).
refusal-malformed-hint = Verstuur uw bericht opnieuw; als het erg groot is, zonder enkele bijlagen. Als het weer mislukt, neem dan contact op met uw beheerder.
