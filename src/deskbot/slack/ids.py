"""Every Slack command, callback and action ID deskbot uses; the manifest check reads these."""

from __future__ import annotations

from enum import StrEnum

COMMAND = "/desk"


class Shortcut(StrEnum):
    REPORT_BUG = "bug-report-start"  # global shortcut
    REPORT_MESSAGE_AS_BUG = "bug-report-from-message"  # message shortcut
    CHECK_EMAIL = "email-check-start"  # global shortcut
    REQUEST_DELETION = "deletion-request-start"  # global shortcut


class View(StrEnum):
    FLOW_PAGE = "flow-page"
    FLOW_SUMMARY = "flow-summary"
    EMAIL_CHECK = "email-check"
    EMAIL_REPLY = "email-check-reply"
    DELETION_CONFIRM = "deletion-confirm"
    DELETION_REASON = "deletion-reason"
    TRIAGE_TEXT = "triage-text"  # ask, resolve, reply: one text, its purpose in the metadata


class Action(StrEnum):
    MODAL_BACK = "flow-modal-back"
    MODAL_RESTART = "flow-modal-restart"
    MODAL_TO_DM = "flow-modal-to-dm"
    DM_CHOOSE = "flow-dm-choose"
    DM_TICK = "flow-dm-tick"
    DM_DONE = "flow-dm-done"
    DM_BACK = "flow-dm-back"
    DM_SKIP = "flow-dm-skip"
    DM_CANCEL = "flow-dm-cancel"
    DM_SUBMIT = "flow-dm-submit"
    EMAIL_ASK_DATA_OFFICER = "email-ask-data-officer"
    EMAIL_REPLY = "email-reply-to-asker"
    DELETION_CONFIRM = "deletion-confirm"
    DELETION_CLAIM = "deletion-claim"
    DELETION_START = "deletion-start"
    DELETION_PAUSE = "deletion-pause"
    DELETION_RESUME = "deletion-resume"
    DELETION_COMPLETE = "deletion-complete"
    DELETION_REJECT = "deletion-reject"
    DELETION_WITHDRAW = "deletion-withdraw"
    HISTORY = "item-history"
    TRIAGE_CLAIM = "triage-claim"
    TRIAGE_ASSIGN = "triage-assign"
    TRIAGE_STATUS = "triage-status"
    TRIAGE_ASK = "triage-ask"
    TRIAGE_FORWARD = "triage-forward"
    TRIAGE_RESOLVE = "triage-resolve"
    TRIAGE_REPLY = "triage-reply"
    HOME_RESUME = "home-draft-resume"
    HOME_DISCARD = "home-draft-discard"
    HOME_PREVIOUS = "home-page-previous"
    HOME_NEXT = "home-page-next"


# The events deskbot subscribes to (bot events), each with a listener.
EVENTS = ("message.im", "app_home_opened")

MODAL_ACTIONS = {
    "back": Action.MODAL_BACK,
    "restart": Action.MODAL_RESTART,
    "to_dm": Action.MODAL_TO_DM,
}
DM_ACTIONS = {
    "choose": Action.DM_CHOOSE,
    "tick": Action.DM_TICK,
    "done": Action.DM_DONE,
    "back": Action.DM_BACK,
    "skip": Action.DM_SKIP,
    "cancel": Action.DM_CANCEL,
    "submit": Action.DM_SUBMIT,
}

TRIAGE_ACTIONS = {
    "claim": Action.TRIAGE_CLAIM,
    "assign": Action.TRIAGE_ASSIGN,
    "status": Action.TRIAGE_STATUS,
    "ask": Action.TRIAGE_ASK,
    "forward": Action.TRIAGE_FORWARD,
    "resolve": Action.TRIAGE_RESOLVE,
    "history": Action.HISTORY,
}
