# umsgate inbound mail strings: English, the reference set. Every other language defines
# exactly these ids (a test enforces it); a message missing from an override falls back to
# English.
#
# Every message may use: $service (fax, sms or voice: for selectors), $service_name,
# $caller (the calling number as shown, or unknown-caller), $called (the number called)
# and $received_at (when the engine received the message, as the engine wrote it).
# Messages that use more list their variables in a comment above them.

## Names

service-fax = Fax
service-sms = SMS
service-voice = Voice message
# The caller when the engine signalled no calling number.
unknown-caller = unknown

## Subject

subject = { $service_name } from { $caller }
# A fax whose pages were counted. $pages
subject-pages = { $service_name } from { $caller } ({ $pages ->
    [1] { $pages } page
   *[other] { $pages } pages
})

## Body

heading = { $service_name } from { $caller }
label-from = From
label-to = To
label-received = Received
label-pages = Pages
label-duration = Duration
# $seconds
duration = { $seconds } s
# In place of the SMS text: the fax or voice message is the attachment.
attached = The message is attached.

## HTML part

# The alternative text of a fax page's preview image. $page
preview-alt = Page { $page }
# Below the previews: pages of the fax that are not shown. $count (at least 1)
more-pages = { $count ->
    [1] One more page
   *[other] { $count } more pages
} in the attachment.
# In place of the previews when the fax's pages cannot be decoded.
no-preview = No preview of this fax can be shown. The fax is attached.
footer = This message was received and delivered automatically by umsgate.
