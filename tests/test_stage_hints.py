"""A stack frame that names the command gives a nearby reply, or a session cut at an unnamed
step, its step; a frame far away, or in another file, does not."""

from __future__ import annotations

from engine.inputs.textinput import Block
from engine.text.signatures import MAX_HINT_DISTANCE, mine


def facts(kb, *texts: str) -> dict[str, list[object]]:
    found: dict[str, list[object]] = {}
    blocks = [Block.of_text(text, f"file{i}") for i, text in enumerate(texts)]
    for o in mine(kb, blocks).observations:
        found.setdefault(o.name, []).append(o.value)
    return found


MAILKIT_REPLY = "MailKit.Net.Smtp.SmtpCommandException: 5.5.2 Syntax error. d79sm1362627vkd.23 - gsmtp"
MAILKIT_FRAME = "   at MailKit.Net.Smtp.SmtpClient.OnRecipientNotAccepted(MimeMessage message, MailboxAddress mailbox)"


def test_a_reply_takes_the_command_of_the_frame_below_it(kb):
    assert facts(kb, f"{MAILKIT_REPLY}\n{MAILKIT_FRAME}\n")["reply.stage"] == ["rcpt"]


def test_a_reply_without_a_frame_keeps_an_unknown_step(kb):
    assert facts(kb, f"{MAILKIT_REPLY}\n")["reply.stage"] == ["unknown"]


def test_a_frame_too_far_away_names_nothing(kb):
    filler = "\n".join(f"INFO line {i}" for i in range(MAX_HINT_DISTANCE + 2))
    assert facts(kb, f"{MAILKIT_REPLY}\n{filler}\n{MAILKIT_FRAME}\n")["reply.stage"] == ["unknown"]


def test_a_frame_in_another_file_names_nothing(kb):
    assert facts(kb, f"{MAILKIT_REPLY}\n", f"{MAILKIT_FRAME}\n")["reply.stage"] == ["unknown"]


def test_a_session_cut_at_an_unnamed_step_takes_the_step_of_the_frame_above_it(kb):
    traceback = (
        '  File "/usr/lib/python3.8/smtplib.py", line 339, in connect\n'
        "    (code, msg) = self.getreply()\n"
        "smtplib.SMTPServerDisconnected: Connection unexpectedly closed\n"
    )
    found = facts(kb, traceback)
    assert found["smtp.failure"] == ["closed"]
    assert found["smtp.stage"] == ["greeting"]


def test_a_ruby_refusal_at_rcpt_is_read_as_a_recipient_refusal(kb):
    from engine.decide.session import NoAsker
    from engine.run.pipeline import diagnose_text

    text = (
        "Net::SMTPSyntaxError: 501 Syntax error in parameters\n"
        "  net/smtp.rb:969:in `check_response'\n"
        "  net/smtp.rb:865:in `rcptto'\n"
    )
    outcome = diagnose_text(kb, [Block.of_text(text, "app.log")], NoAsker())
    assert outcome.session.inference.findings[0].finding == "recipient.rejected"
