# umsgate report strings: English, the reference set. Every other language defines exactly
# these ids (a test enforces it); a message missing from an override falls back to English.
#
# Every message may use: $service (fax, sms or voice: for selectors), $service_name,
# $number (E.164), $address (the address the user wrote) and $job_id.
# Messages that use more list their variables in a comment above them.

## Names

service-fax = Fax
service-sms = SMS
service-voice = Voice message

# Number classes as "which numbers", used as in "… to international numbers".
class-internal = internal numbers
class-local = local numbers
class-national = national numbers
class-international = international numbers

# The levels of a send right, quoted in sentences.
right-none = none
right-internal = internal
right-local = local
right-national = national
right-international = international

## Values

# $year $month $day $hour $minute: UTC, zero-padded.
datetime = { $year }-{ $month }-{ $day } { $hour }:{ $minute } UTC
# $pages
pages = { $pages ->
    [one] { $pages } page
   *[other] { $pages } pages
}
# $minutes $seconds
duration = { $minutes ->
    [0] { $seconds } s
   *[other] { $minutes } min { $seconds } s
}
no-subject = (no subject)
unnamed-attachment = without name
unknown-reason = no reason given

## Subjects

subject-sent = { $service_name } to { $number }: sent
subject-failed = { $service_name } to { $number }: not delivered
subject-refused = { $service_name } to { $number }: refused
# $report: one of the three above; $subject: the subject of the user's mail.
subject-with-original = { $report } – { $subject }

## Headings and first sentences

heading-sent = { $service_name } sent
heading-failed = { $service_name } not delivered
heading-refused = { $service_name } refused

intro-sent = { $service ->
    [sms] Your SMS to { $number } has been delivered.
    [voice] Your voice message to { $number } has been delivered.
   *[other] Your fax to { $number } has been sent.
}
intro-failed = { $service ->
    [sms] Your SMS to { $number } could not be delivered.
    [voice] Your voice message to { $number } could not be delivered.
   *[other] Your fax to { $number } could not be sent.
}
intro-refused = { $service ->
    [sms] Your SMS to { $number } has not been sent.
    [voice] Your voice message to { $number } has not been sent.
   *[other] Your fax to { $number } has not been sent.
}
failed-hint = Check the number and send your message again later. If it fails again, please contact your administrator.

## Labels of the details

label-service = Service
label-number = Number
label-address = Sent to
label-subject = Subject
label-job = Job
label-time = Time
label-pages = Pages
label-duration = Duration
label-attempts = Attempts
label-remote-id = { $service ->
    [fax] Remote station
   *[other] Reference
}
label-reason = Reason
label-hint = What you can do

footer = This report was created automatically by umsgate. Please do not reply to it.

## Why a message was refused, and what the user can do about it

# $sender
refusal-unknown-sender = The sender address { $sender } is not registered for sending faxes, SMS or voice messages.
refusal-unknown-sender-hint = Send your message from the mail address registered for you, or ask your administrator to register { $sender }.

# $class: localized (class-…); $right, $needed: the user's right and the right the
# number's class needs, localized (right-…).
refusal-no-right = Your rights do not cover this number: your { $service ->
    [sms] SMS
    [voice] voice
   *[other] fax
} right is “{ $right }”, but { $number } needs “{ $needed }”.
refusal-no-right-hint = Ask your administrator for the right to send { $service ->
    [sms] SMS
    [voice] voice messages
   *[other] faxes
} to { $class }.

refusal-emergency-mode = The system is in emergency mode: at the moment only users with priority access may send.
refusal-emergency-mode-hint = Send your message again when the emergency mode has ended, or ask your administrator for priority access.

# $limit
refusal-daily-limit = You have reached your daily limit for { $service ->
    [sms] SMS
    [voice] voice messages
   *[other] faxes
} ({ $limit }).
refusal-daily-limit-hint = Send your message again tomorrow, or ask your administrator for a higher daily limit.

# $pages $max
refusal-too-many-pages = The fax would have { $pages } pages, but you may send at most { $max ->
    [one] { $max } page
   *[other] { $max } pages
} per fax.
refusal-too-many-pages-hint = Split the document into several faxes of at most { $max ->
    [one] { $max } page
   *[other] { $max } pages
} each, or ask your administrator for a higher page limit.

# $name $content_type
refusal-unsupported-attachment = The attachment “{ $name }” ({ $content_type }) cannot be converted for sending.
refusal-unsupported-attachment-hint = { $service ->
    [voice] Attach the recording as a WAV file and send your message again.
   *[other] Convert the attachment to PDF and send your message again, or ask your administrator which formats are supported.
}

refusal-empty-message = The mail contains nothing that could be sent: no text and no usable attachment.
refusal-empty-message-hint = { $service ->
    [sms] Write the SMS text into the body of the mail.
    [voice] Write the text to be spoken into the body of the mail, or attach a WAV file.
   *[other] Write your text into the body of the mail, or attach a document such as a PDF file.
}

# $segments $max
refusal-sms-too-long = The text needs { $segments } SMS parts, but at most { $max } may be sent.
refusal-sms-too-long-hint = Shorten the text and send it again, or send it as several messages.

refusal-no-voice-content = A voice message needs a WAV attachment or text to be spoken; the mail has neither.
refusal-no-voice-content-hint = Attach a WAV file or write the text to be spoken into the body of the mail.

# $bad_number $detail
refusal-bad-number = The number “{ $bad_number }” in { $address } cannot be dialled ({ $detail }).
refusal-bad-number-hint = Check the number in the recipient address; write it in international form with + and the country code, without letters.

# $detail
refusal-malformed = Your mail could not be read ({ $detail }).
refusal-malformed-hint = Send your message again; if it is very large, send it without some of its attachments. If it fails again, please contact your administrator.
