//! The relay's handoff, channel and notice-board endpoints (`docs/protocol.md` §11,
//! "Handoffs" and "Channels and notices").

use candor_protocol::api::channels::{
    ChannelOpened, ChannelPage, MAX_NOTICE_PAGE, NoticePage, OpenChannel, PostedNotice,
};
use candor_protocol::api::handoffs::{
    Agreement, Fetch, Fetched, HANDOFF_API_VERSION, HandoffStatus, PutHandoff,
};
use candor_protocol::api::{Appended, StoredEnvelope};
use candor_protocol::handoff::Revocation;
use candor_protocol::{Envelope, HandoffId, MailboxId};
use reqwest::Method;

use super::{Auth, MAX_PAGES, PAGE, Relay, RelayError, to_json};

fn path(id: &HandoffId, tail: &str) -> String {
    format!("/v1/handoffs/{id}{tail}")
}

impl Relay {
    /// `PUT /v1/handoffs/{handoff}`, signed by the case key: the consent, package and share.
    pub fn consent(
        &self,
        id: &HandoffId,
        put: &PutHandoff,
        auth: &Auth<'_>,
    ) -> Result<HandoffStatus, RelayError> {
        self.json(Method::PUT, &path(id, ""), Some(to_json(put)), Some(auth))
    }

    /// `POST /v1/handoffs/{handoff}/agreement`, signed by the office key.
    pub fn agree(
        &self,
        id: &HandoffId,
        agreement: &Agreement,
        auth: &Auth<'_>,
    ) -> Result<HandoffStatus, RelayError> {
        let body = Some(to_json(agreement));
        self.json(Method::POST, &path(id, "/agreement"), body, Some(auth))
    }

    /// `POST /v1/handoffs/{handoff}/fetch`, signed by the third party's fetch key: the one fetch.
    pub fn fetch_handoff(&self, id: &HandoffId, auth: &Auth<'_>) -> Result<Fetched, RelayError> {
        let body = Fetch {
            v: HANDOFF_API_VERSION.into(),
        };
        self.json(
            Method::POST,
            &path(id, "/fetch"),
            Some(to_json(&body)),
            Some(auth),
        )
    }

    /// `GET /v1/handoffs/{handoff}`, signed by the case key or the office key; `None` for a
    /// handoff the relay does not know (never consented, or swept after its expiry).
    pub fn handoff_status(
        &self,
        id: &HandoffId,
        auth: &Auth<'_>,
    ) -> Result<Option<HandoffStatus>, RelayError> {
        match self.json(Method::GET, &path(id, ""), None, Some(auth)) {
            Ok(status) => Ok(Some(status)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `POST /v1/handoffs/{handoff}/revocation`, signed by the revoking side.
    pub fn revoke(
        &self,
        revocation: &Revocation,
        auth: &Auth<'_>,
    ) -> Result<HandoffStatus, RelayError> {
        let body = Some(to_json(revocation));
        self.json(
            Method::POST,
            &path(&revocation.id, "/revocation"),
            body,
            Some(auth),
        )
    }

    /// `PUT /v1/channels/{channel}`, signed by the office key.
    pub fn open_channel(
        &self,
        channel: &MailboxId,
        open: &OpenChannel,
        auth: &Auth<'_>,
    ) -> Result<ChannelOpened, RelayError> {
        let path = format!("/v1/channels/{channel}");
        self.json(Method::PUT, &path, Some(to_json(open)), Some(auth))
    }

    /// `GET /v1/notices`, every page: the whole board, which no request can narrow to one
    /// third party's notices.
    pub fn notices(&self) -> Result<Vec<PostedNotice>, RelayError> {
        let mut all = Vec::new();
        let mut after = 0u64;
        for _ in 0..MAX_PAGES {
            let path = format!("/v1/notices?after={after}&limit={MAX_NOTICE_PAGE}");
            let page: NoticePage = self.json(Method::GET, &path, None, None)?;
            if page.notices.is_empty() || page.next <= after {
                break;
            }
            for posted in page.notices {
                if posted.cursor <= after {
                    return Err(self.bad("a notice out of order"));
                }
                after = posted.cursor;
                all.push(posted);
            }
        }
        Ok(all)
    }

    /// `POST /v1/channels/{channel}/envelopes`: one envelope on a handoff's channel.
    pub fn channel_append(&self, envelope: &Envelope, auth: &Auth<'_>) -> Result<u64, RelayError> {
        let path = format!("/v1/channels/{}/envelopes", envelope.mailbox);
        let done: Appended =
            self.json(Method::POST, &path, Some(envelope.to_json()), Some(auth))?;
        Ok(done.seq)
    }

    /// `GET /v1/channels/{channel}/envelopes`, every page; `None` for a channel the relay does
    /// not know (not opened yet, or swept after its expiry).
    pub fn channel_envelopes(
        &self,
        channel: &MailboxId,
        auth: &Auth<'_>,
    ) -> Result<Option<Vec<StoredEnvelope>>, RelayError> {
        let mut all = Vec::new();
        let mut after = 0u64;
        for _ in 0..MAX_PAGES {
            let path = format!("/v1/channels/{channel}/envelopes?after={after}&limit={PAGE}");
            let page: ChannelPage = match self.json(Method::GET, &path, None, Some(auth)) {
                Ok(page) => page,
                Err(e) if e.is_not_found() && all.is_empty() => return Ok(None),
                Err(e) => return Err(e),
            };
            if page.envelopes.is_empty() || page.next <= after {
                break;
            }
            for stored in page.envelopes {
                if stored.envelope.mailbox != *channel || stored.seq <= after {
                    return Err(self.bad("an envelope out of place or out of order"));
                }
                after = stored.seq;
                all.push(stored);
            }
        }
        Ok(Some(all))
    }
}
