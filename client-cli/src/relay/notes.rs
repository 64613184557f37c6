//! The relay's note endpoints (`docs/protocol.md` §11, "Mailboxes"): the ombuds' notes on a
//! case, signed by the office key, sealed to the office (`candor_protocol::note`).

use candor_protocol::MailboxId;
use candor_protocol::api::notes::{NOTE_VERSION, NotePage, NoteStored, PutNote, StoredNote};
use reqwest::Method;

use super::{Auth, MAX_PAGES, PAGE, Relay, RelayError, to_json};

impl Relay {
    /// `POST /v1/mailboxes/{mailbox}/notes`, signed by the office: stores a sealed note and
    /// returns its number.
    pub fn put_note(
        &self,
        mailbox: &MailboxId,
        sealed: Vec<u8>,
        auth: &Auth<'_>,
    ) -> Result<u64, RelayError> {
        let body = to_json(&PutNote {
            v: NOTE_VERSION.into(),
            sealed,
        });
        let path = format!("/v1/mailboxes/{mailbox}/notes");
        let stored: NoteStored = self.json(Method::POST, &path, Some(body), Some(auth))?;
        Ok(stored.note)
    }

    /// `GET /v1/mailboxes/{mailbox}/notes`, every page, signed by the office: the case's
    /// sealed notes in order.
    pub fn notes(
        &self,
        mailbox: &MailboxId,
        auth: &Auth<'_>,
    ) -> Result<Vec<StoredNote>, RelayError> {
        let mut all = Vec::new();
        let mut after = 0u64;
        for _ in 0..MAX_PAGES {
            let path = format!("/v1/mailboxes/{mailbox}/notes?after={after}&limit={PAGE}");
            let page: NotePage = self.json(Method::GET, &path, None, Some(auth))?;
            if page.notes.is_empty() || page.next <= after {
                break;
            }
            for note in page.notes {
                if note.note <= after {
                    return Err(self.bad("a note out of order"));
                }
                after = note.note;
                all.push(note);
            }
        }
        Ok(all)
    }
}
