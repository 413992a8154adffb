# umsgate report strings: French. Same ids as en/reports.ftl (see there for the variables).

## Names

service-fax = Fax
service-sms = SMS
service-voice = Message vocal

class-internal = numéros internes
class-local = numéros locaux
class-national = numéros nationaux
class-international = numéros internationaux

right-none = aucun
right-internal = interne
right-local = local
right-national = national
right-international = international

## Values

datetime = { $day }/{ $month }/{ $year } { $hour }:{ $minute } UTC
pages = { $pages ->
    [one] { $pages } page
   *[other] { $pages } pages
}
duration = { $minutes ->
    [0] { $seconds } s
   *[other] { $minutes } min { $seconds } s
}
no-subject = (sans objet)
unnamed-attachment = sans nom
unknown-reason = aucune raison indiquée

## Subjects

subject-sent = { $service_name } au { $number } : envoyé
subject-failed = { $service_name } au { $number } : non remis
subject-refused = { $service_name } au { $number } : refusé
subject-with-original = { $report } – { $subject }

## Headings and first sentences

heading-sent = { $service_name } envoyé
heading-failed = { $service_name } non remis
heading-refused = { $service_name } refusé

intro-sent = { $service ->
    [sms] Votre SMS au { $number } a été remis.
    [voice] Votre message vocal au { $number } a été remis.
   *[other] Votre fax au { $number } a été envoyé.
}
intro-failed = { $service ->
    [sms] Votre SMS au { $number } n’a pas pu être remis.
    [voice] Votre message vocal au { $number } n’a pas pu être remis.
   *[other] Votre fax au { $number } n’a pas pu être envoyé.
}
intro-refused = { $service ->
    [sms] Votre SMS au { $number } n’a pas été envoyé.
    [voice] Votre message vocal au { $number } n’a pas été envoyé.
   *[other] Votre fax au { $number } n’a pas été envoyé.
}
failed-hint = Vérifiez le numéro et renvoyez votre message plus tard. En cas de nouvel échec, veuillez contacter votre administrateur.

## Labels of the details

label-service = Service
label-number = Numéro
label-address = Envoyé à
label-subject = Objet
label-job = Tâche
label-time = Date
label-pages = Pages
label-duration = Durée
label-attempts = Tentatives
label-remote-id = { $service ->
    [fax] Poste distant
   *[other] Référence
}
label-reason = Motif
label-hint = Que faire

footer = Ce rapport a été créé automatiquement par umsgate. Merci de ne pas y répondre.

## Why a message was refused, and what the user can do about it

refusal-unknown-sender = L’adresse d’expéditeur { $sender } n’est pas enregistrée pour l’envoi de fax, de SMS ou de messages vocaux.
refusal-unknown-sender-hint = Envoyez votre message depuis l’adresse e-mail enregistrée pour vous, ou demandez à votre administrateur d’enregistrer { $sender }.

refusal-no-right = Vos droits ne couvrent pas ce numéro : votre droit { $service ->
    [sms] SMS
    [voice] pour les messages vocaux
   *[other] fax
} est « { $right } », mais le { $number } nécessite « { $needed } ».
refusal-no-right-hint = Demandez à votre administrateur le droit d’envoyer des { $service ->
    [sms] SMS
    [voice] messages vocaux
   *[other] fax
} vers des { $class }.

refusal-emergency-mode = Le système est en mode d’urgence : seuls les utilisateurs prioritaires peuvent envoyer pour le moment.
refusal-emergency-mode-hint = Renvoyez votre message quand le mode d’urgence sera terminé, ou demandez à votre administrateur un accès prioritaire.

refusal-daily-limit = Vous avez atteint votre limite quotidienne de { $service ->
    [sms] SMS
    [voice] messages vocaux
   *[other] fax
} ({ $limit }).
refusal-daily-limit-hint = Renvoyez votre message demain, ou demandez à votre administrateur une limite quotidienne plus élevée.

refusal-too-many-pages = Le fax aurait { $pages } pages, mais vous pouvez envoyer au maximum { $max ->
    [one] { $max } page
   *[other] { $max } pages
} par fax.
refusal-too-many-pages-hint = Divisez le document en plusieurs fax d’au maximum { $max ->
    [one] { $max } page
   *[other] { $max } pages
} chacun, ou demandez à votre administrateur une limite de pages plus élevée.

refusal-unsupported-attachment = La pièce jointe « { $name } » ({ $content_type }) ne peut pas être convertie pour l’envoi.
refusal-unsupported-attachment-hint = { $service ->
    [voice] Joignez l’enregistrement sous forme de fichier WAV et renvoyez votre message.
   *[other] Convertissez la pièce jointe en PDF et renvoyez votre message, ou demandez à votre administrateur quels formats sont acceptés.
}

refusal-empty-message = Le message ne contient rien qui puisse être envoyé : ni texte, ni pièce jointe utilisable.
refusal-empty-message-hint = { $service ->
    [sms] Écrivez le texte du SMS dans le corps du message.
    [voice] Écrivez le texte à prononcer dans le corps du message, ou joignez un fichier WAV.
   *[other] Écrivez votre texte dans le corps du message, ou joignez un document, par exemple un fichier PDF.
}

refusal-sms-too-long = Le texte nécessite { $segments } parties de SMS, mais au maximum { $max } peuvent être envoyées.
refusal-sms-too-long-hint = Raccourcissez le texte et renvoyez-le, ou envoyez-le en plusieurs messages.

refusal-no-voice-content = Un message vocal nécessite une pièce jointe WAV ou un texte à prononcer ; le message n’a ni l’un ni l’autre.
refusal-no-voice-content-hint = Joignez un fichier WAV, ou écrivez le texte à prononcer dans le corps du message.

refusal-bad-number = Le numéro « { $bad_number } » dans { $address } ne peut pas être composé ({ $detail }).
refusal-bad-number-hint = Vérifiez le numéro dans l’adresse du destinataire ; écrivez-le au format international avec + et l’indicatif du pays, sans lettres.

refusal-malformed = Votre message n’a pas pu être lu ({ $detail }).
refusal-malformed-hint = Renvoyez votre message ; s’il est très volumineux, sans certaines pièces jointes. En cas de nouvel échec, veuillez contacter votre administrateur.
