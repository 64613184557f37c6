//! The office's batch endpoints (`docs/protocol.md` §11, "Batches"), signed by the office key:
//! the envelopes of many cases after a cursor each, and many cases' sealed read markers, a
//! hundred cases a request.

use std::collections::HashMap;

use candor_protocol::api::batch::{
    BATCH_VERSION, BatchFetch, BatchMarkers, BatchPage, CaseCursor, CaseMarker, MAX_BATCH_CASES,
    MarkersSet,
};
use candor_protocol::{MailboxId, OfficeId};
use reqwest::Method;

use super::{Auth, Fetched, MAX_PAGES, Relay, RelayError, to_json};

/// One case wanted from a batch: its envelopes after `after`, up to `last` (its last sequence
/// number as the inbox listed it).
pub struct Wanted {
    /// The case.
    pub mailbox: MailboxId,
    /// The cursor.
    pub after: u64,
    /// Where to stop.
    pub last: u64,
}

struct Progress {
    cursor: u64,
    fetched: Fetched,
    /// Still to ask for.
    pending: bool,
    /// The relay did not give it: not the office's, or deleted.
    gone: bool,
}

impl Relay {
    /// The envelopes of every case in `wanted`, in as few signed requests as the relay's page
    /// budget allows. A case the relay does not give is `None`.
    pub fn batch_envelopes(
        &self,
        office: &OfficeId,
        auth: &Auth<'_>,
        wanted: &[Wanted],
    ) -> Result<Vec<Option<Fetched>>, RelayError> {
        let mut progress: Vec<Progress> = wanted
            .iter()
            .map(|w| Progress {
                cursor: w.after,
                fetched: Fetched {
                    envelopes: Vec::new(),
                    closed: false,
                },
                pending: w.last > w.after,
                gone: false,
            })
            .collect();
        let path = format!("/v1/offices/{office}/envelopes");
        for _ in 0..MAX_PAGES {
            let asked: Vec<usize> = (0..wanted.len())
                .filter(|&i| progress[i].pending)
                .take(MAX_BATCH_CASES)
                .collect();
            if asked.is_empty() {
                break;
            }
            let body = to_json(&BatchFetch {
                v: BATCH_VERSION,
                cases: asked
                    .iter()
                    .map(|&i| CaseCursor {
                        mailbox: wanted[i].mailbox,
                        after: progress[i].cursor,
                    })
                    .collect(),
            });
            let page: BatchPage = self.json(Method::POST, &path, Some(body), Some(auth))?;
            if page.done == 0 || page.done > asked.len() {
                return Err(self.bad("a batch that reached no case, or more than were asked"));
            }
            let reached = &asked[..page.done];
            let mut pages: HashMap<MailboxId, _> = HashMap::new();
            for case in page.cases {
                if !reached.iter().any(|&i| wanted[i].mailbox == case.mailbox)
                    || pages.insert(case.mailbox, case).is_some()
                {
                    return Err(self.bad("a batch page of a case not asked for, or twice"));
                }
            }
            for &i in reached {
                let p = &mut progress[i];
                let Some(case) = pages.remove(&wanted[i].mailbox) else {
                    p.pending = false;
                    p.gone = true;
                    continue;
                };
                let empty = case.envelopes.is_empty();
                for stored in case.envelopes {
                    if stored.envelope.mailbox != wanted[i].mailbox || stored.seq <= p.cursor {
                        return Err(self.bad("an envelope out of place or out of order"));
                    }
                    p.cursor = stored.seq;
                    p.fetched.envelopes.push(stored);
                }
                p.fetched.closed = case.closed;
                p.pending = !empty && p.cursor < wanted[i].last;
            }
        }
        Ok(progress
            .into_iter()
            .map(|p| (!p.gone).then_some(p.fetched))
            .collect())
    }

    /// Stores sealed read markers, a hundred a request; returns how many the relay set (a
    /// case deleted meanwhile is not).
    pub fn batch_markers(
        &self,
        office: &OfficeId,
        auth: &Auth<'_>,
        markers: Vec<CaseMarker>,
    ) -> Result<usize, RelayError> {
        let path = format!("/v1/offices/{office}/markers");
        let mut set = 0;
        let mut markers = markers.into_iter().peekable();
        while markers.peek().is_some() {
            let chunk: Vec<CaseMarker> = markers.by_ref().take(MAX_BATCH_CASES).collect();
            let body = to_json(&BatchMarkers {
                v: BATCH_VERSION,
                markers: chunk,
            });
            let answer: MarkersSet = self.json(Method::PUT, &path, Some(body), Some(auth))?;
            set += answer.set.len();
        }
        Ok(set)
    }
}
