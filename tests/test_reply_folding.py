"""A reply wrapped over several lines is read whole: indented by a bounce, or cut mid-sentence."""

from engine.inputs.textinput import Block
from engine.text.signatures import mine


def reply_texts(kb, text: str) -> list[str]:
    facts = mine(kb, [Block.of_text(text, "pasted")])
    return [str(o.value) for o in facts.observations if o.name == "reply.text"]


def test_an_indented_continuation_line_joins_the_reply(kb):
    text = "said: 550 5.7.1 Service unavailable; Client host [192.0.2.1]\n    blocked using zen.spamhaus.org\n"
    assert any("blocked using zen.spamhaus.org" in t for t in reply_texts(kb, text))


def test_a_line_cut_mid_sentence_joins_the_reply(kb):
    text = "535 5.7.139 Authentication unsuccessful, user is locked by your\norganization's security defaults policy.\n"
    assert any("security defaults policy" in t for t in reply_texts(kb, text))


def test_a_new_log_line_after_a_reply_stays_apart(kb):
    text = "535 5.7.8 Error: authentication failed: bad\n2024-01-01 12:00:00 INFO retrying in 60 seconds\n"
    assert not any("retrying" in t for t in reply_texts(kb, text))


def test_a_stack_frame_after_a_reply_stays_apart(kb):
    text = "535 5.7.8 Error: authentication failed: bad\nat com.sun.mail.smtp.SMTPTransport.authenticate\n"
    assert not any("SMTPTransport" in t for t in reply_texts(kb, text))


def test_a_stack_frame_printed_in_another_language_stays_apart(kb):
    text = (
        "MailKit.Net.Smtp.SmtpCommandException: 5.5.2 Syntax error.\n"
        "   en MailKit.Net.Smtp.SmtpClient.OnRecipientNotAccepted(MimeMessage message)\n"
    )
    assert not any("OnRecipientNotAccepted" in t for t in reply_texts(kb, text))
