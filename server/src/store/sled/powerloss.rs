//! The power-loss test: does a 2xx survive a power cut?
//!
//! Each round runs concurrent appends, mailbox opens, deletions, handoff packages and their
//! state changes, sweeps, compactions and checkpoints against a real [`SledStore`] with the real group-commit
//! flusher, cuts the power at a random moment, brings the disk back as it survived, reopens
//! the store (sometimes cutting the power again while it recovers) and checks that:
//! - every acknowledged write is present and whole;
//! - every acknowledged deletion and sweep stays deleted;
//! - nothing unacknowledged is half done: an envelope is whole or absent, a mailbox is
//!   wholly there or wholly gone;
//! - each handoff is wholly in one state: its body is exactly one of the bodies its package
//!   was given (consented, agreed, then revoked or fetched, as the relay's record goes), never
//!   a mix, and never a state older than the last acknowledged change;
//! - `check` finds nothing wrong.
//!
//! **What is simulated.** The log's files go through [`sim::SimDisk`], which keeps only what
//! was synced and lets each unsynced page, creation, removal or truncation survive or not, and
//! flips bits in surviving unsynced pages. sled cannot be routed through it without forking
//! sled, so its disk is modelled as its state at the last `flush` that returned: when a flush
//! returns (under the committer's lock, so no commit applies to sled meanwhile), its trees are
//! exported, and a reopen imports them into a fresh directory. What this does not cover: sled's
//! own recovery from a torn write of its files, and a sled that keeps more than its last flush
//! (which the log's replay makes harmless, since replaying a commit twice changes nothing).
//!
//! A round is drawn from its chain's seed; a chain is a store reopened round after round.
//! `CANDOR_POWERLOSS_ROUNDS` (default 200) and `CANDOR_POWERLOSS_SEED` (default: drawn, and
//! printed) set a run. Threads interleave as the machine schedules them, so a failing seed
//! replays the same workload and faults, not always the same interleaving.

mod sim;
mod states;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use candor_protocol::{Direction, Envelope, HandoffId, MailboxId, OfficeId};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::{Options, SledStore};
use crate::durability::Durability;
use crate::store::conformance::TestOffice;
use crate::store::{
    Expiry, NewMailbox, NewPackage, PackageRecord, Quotas, Store, StoreError, TokenKind, UsedToken,
};
use sim::SimDisk;
use states::State;

/// Rounds on one store before a fresh one, so that a chain also tests recovery after recovery.
const CHAIN: u64 = 10;
const WORKERS: u64 = 3;
/// Store operations per worker per round, at most.
const OPS: usize = 40;
/// Small segments, so that rounds rotate and compact often.
const SEGMENT_BYTES: u64 = 16 * 1024;
const HOUR: u64 = 3600;
const DAY: u64 = 86_400;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn env_u64(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    match value.parse() {
        Ok(n) => Some(n),
        Err(_) => panic!("{name}={value:?} is not a whole number"),
    }
}

#[test]
fn acknowledged_writes_and_deletions_survive_power_loss() {
    let rounds = env_u64("CANDOR_POWERLOSS_ROUNDS").unwrap_or(200);
    let first = env_u64("CANDOR_POWERLOSS_SEED").unwrap_or_else(|| rand::rng().random());
    println!("power-loss test: {rounds} rounds from seed {first}");
    let mut done = 0;
    let mut chain = 0;
    let mut total = Tally::default();
    while done < rounds {
        let seed = first.wrapping_add(chain);
        let length = CHAIN.min(rounds - done);
        let mut rig = Rig::new(seed);
        for round in 0..length {
            if let Err(failure) = rig.round() {
                panic!(
                    "power-loss round {round} of the chain with seed {seed} failed: {failure}\n\
                     what the last cut did: {:#?}\n\
                     replay: CANDOR_POWERLOSS_SEED={seed} CANDOR_POWERLOSS_ROUNDS={} cargo test \
                     -p candor-server --lib powerloss",
                    rig.last_cut,
                    round + 1
                );
            }
        }
        total.add(&rig.tally);
        done += length;
        chain += 1;
    }
    println!("power-loss test: {total:?}");
    // A run that never cut mid-load, or checked nothing acknowledged, tested nothing.
    assert!(total.mid_load > 0 && total.acked_envelopes > 0 && total.acked_deletions > 0);
    assert!(total.acked_packages > 0 && total.acked_changes > 0);
}

/// What a run did, to show that it tested something.
#[derive(Debug, Default)]
struct Tally {
    /// Cuts while the load ran, and at rest after it.
    mid_load: u64,
    at_rest: u64,
    /// Cuts during a recovery.
    in_recovery: u64,
    /// Acknowledged writes found whole after a cut.
    acked_envelopes: u64,
    acked_opens: u64,
    acked_packages: u64,
    /// Acknowledged handoff state changes (agreement, revocation, fetch) found in force.
    acked_changes: u64,
    /// Acknowledged deletions and sweeps found still deleted.
    acked_deletions: u64,
    /// Unacknowledged writes found whole, and found absent.
    unacked_kept: u64,
    unacked_lost: u64,
    /// Unsynced pages and directory entries the cuts kept, and bits they flipped.
    faults: u64,
    flips: u64,
}

impl Tally {
    fn add(&mut self, o: &Tally) {
        self.mid_load += o.mid_load;
        self.at_rest += o.at_rest;
        self.in_recovery += o.in_recovery;
        self.acked_envelopes += o.acked_envelopes;
        self.acked_opens += o.acked_opens;
        self.acked_packages += o.acked_packages;
        self.acked_changes += o.acked_changes;
        self.acked_deletions += o.acked_deletions;
        self.unacked_kept += o.unacked_kept;
        self.unacked_lost += o.unacked_lost;
        self.faults += o.faults;
        self.flips += o.flips;
    }
}

/// What the test knows of a case.
#[derive(Default)]
struct Case {
    /// Its open was acknowledged.
    opened: bool,
    /// Opened already expired, for the sweeper; never written to.
    doomed: bool,
    /// Each envelope's JSON, and whether its append was acknowledged.
    envelopes: Vec<(Vec<u8>, bool)>,
    /// A deletion returned; `Some(true)`: and was acknowledged.
    deleted: Option<bool>,
    /// An acknowledged sweep ran after its open was acknowledged.
    swept: bool,
    owner: u64,
}

struct Package {
    mailbox: MailboxId,
    /// Each body written, in order, with its state.
    bodies: Vec<(State, Vec<u8>)>,
    /// How many of `bodies` were acknowledged (0: not even the first).
    acked: usize,
}

#[derive(Default)]
struct Model {
    cases: HashMap<MailboxId, Case>,
    packages: HashMap<HandoffId, Package>,
}

/// One chain: a simulated disk for the log, and sled's state at its last flush.
struct Rig {
    rng: StdRng,
    disk: SimDisk,
    root: tempfile::TempDir,
    /// The log's directory on the simulated disk: the same across reopens.
    log_dir: PathBuf,
    /// sled's state as of the last flush that returned.
    flushed: Arc<Mutex<Option<SledState>>>,
    generation: u64,
    offices: Vec<OfficeId>,
    model: Model,
    last_cut: Vec<String>,
    tally: Tally,
}

/// Every tree of a sled database, as `Db::export` gives it.
type SledState = Vec<(Vec<u8>, Vec<u8>, Vec<Vec<Vec<u8>>>)>;

/// sled's whole state, taken while no commit applies to it. A copy of its files would not
/// do: a read in sled can write too (a traversal that meets a node due to split splits it,
/// `Tree::view_for_key` in sled 0.34), so a copy taken while readers run can be torn.
fn export(db: &sled::Db) -> SledState {
    db.export()
        .into_iter()
        .map(|(kind, name, rows)| (kind, name, rows.collect()))
        .collect()
}

fn quotas() -> Quotas {
    Quotas {
        mailboxes_per_office: 10_000,
        envelopes_per_mailbox: 10_000,
        bytes_per_mailbox: 1 << 30,
        packages_per_mailbox: 4,
        channels_per_office: 4,
        notes_per_mailbox: 4,
        bytes_per_office: u64::MAX,
    }
}

fn token(kind: TokenKind, rng: &mut StdRng) -> UsedToken {
    UsedToken {
        kind,
        random: rng.random(),
        expires: now() + DAY,
    }
}

impl Rig {
    fn new(seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let disk = SimDisk::new(rng.random(), 0.2);
        let root = tempfile::tempdir().expect("a temporary directory");
        let mut rig = Self {
            log_dir: PathBuf::from("/simulated/candor-log"),
            flushed: Arc::new(Mutex::new(None)),
            disk,
            root,
            generation: 0,
            offices: Vec::new(),
            model: Model::default(),
            last_cut: Vec::new(),
            tally: Tally::default(),
            rng,
        };
        let store = rig.open().expect("a new store opens");
        for i in 0..2 {
            let record = TestOffice::new(&format!("office-{i}")).record;
            let invite = token(TokenKind::Invite, &mut rig.rng);
            store.register_office(&record, &invite).expect("an office");
            rig.offices.push(record.id);
        }
        store.flush().expect("the offices are durable");
        drop(store);
        rig
    }

    /// Opens the store on sled's last flushed state, imported into a fresh directory, with the
    /// log on the simulated disk.
    fn open(&mut self) -> Result<Arc<SledStore>, StoreError> {
        self.generation += 1;
        let live = self.root.path().join(format!("sled-{}", self.generation));
        let state = self
            .flushed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(state) = state {
            let db = sled::open(&live).expect("a fresh sled directory");
            db.import(
                state
                    .into_iter()
                    .map(|(kind, name, rows)| (kind, name, rows.into_iter()))
                    .collect(),
            );
            db.flush().expect("sled's imported state on disk");
        }
        let (disk, flushed) = (self.disk.clone(), self.flushed.clone());
        let mut options = Options::new(4 * 1024 * 1024);
        options.disk = Arc::new(self.disk.clone());
        options.log_dir = Some(self.log_dir.clone());
        options.segment_bytes = SEGMENT_BYTES;
        options.on_sled_flushed = Some(Arc::new(move |db: &sled::Db| {
            disk.while_up(|| {
                *flushed.lock().unwrap_or_else(PoisonError::into_inner) = Some(export(db));
            });
        }));
        // sled lets go of a directory's lock a moment after its last handle is dropped.
        for _ in 0..100 {
            match SledStore::open_with(&live, options.clone()) {
                Err(StoreError::Backend(e)) if e.contains("lock") => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                other => return other.map(Arc::new),
            }
        }
        SledStore::open_with(&live, options).map(Arc::new)
    }

    /// One round: load, a cut, a reopen, the checks. `Err` says what was wrong.
    fn round(&mut self) -> Result<(), String> {
        let store = self
            .open()
            .map_err(|e| format!("the store did not open: {e}"))?;
        let model = Arc::new(Mutex::new(std::mem::take(&mut self.model)));
        let durability = Arc::new(
            Durability::start(store.clone(), Duration::from_micros(200)).expect("a flusher"),
        );
        self.disk.cut_after(Some(self.rng.random_range(1..=400)));
        let stop = Arc::new(AtomicBool::new(false));
        let mut load = |worker| Load {
            store: store.clone(),
            durability: durability.clone(),
            model: model.clone(),
            rng: StdRng::seed_from_u64(self.rng.random()),
            offices: self.offices.clone(),
            worker,
        };
        let mut threads = Vec::new();
        for worker in 0..WORKERS {
            let mut load = load(worker);
            threads.push(std::thread::spawn(move || load.work()));
        }
        {
            let (mut load, stop) = (load(WORKERS), stop.clone());
            threads.push(std::thread::spawn(move || load.maintain(&stop)));
        }
        for t in threads.drain(..WORKERS as usize) {
            t.join().map_err(|_| "a worker panicked".to_owned())?;
        }
        // If the load ended first, the power goes now, with everything at rest.
        if self.disk.is_down() {
            self.tally.mid_load += 1;
        } else {
            self.tally.at_rest += 1;
            self.disk.cut();
        }
        stop.store(true, Ordering::Relaxed);
        for t in threads {
            t.join().map_err(|_| "the maintainer panicked".to_owned())?;
        }
        durability.stop();
        drop(durability);
        drop(store);
        self.model = Arc::into_inner(model)
            .ok_or("a thread kept the model")?
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        self.last_cut = self.disk.restore();
        self.count_faults();

        // Sometimes the power goes again while the store recovers.
        if self.rng.random_bool(0.25) {
            self.disk.cut_after(Some(self.rng.random_range(1..=8)));
            let attempt = self.open();
            if self.disk.is_down() {
                self.tally.in_recovery += 1;
            }
            self.disk.cut();
            drop(attempt);
            self.last_cut.extend(self.disk.restore());
            self.count_faults();
        }
        let store = self
            .open()
            .map_err(|e| format!("the store did not open after the cut: {e}"))?;
        self.verify(store.as_ref())?;
        let report = store
            .check()
            .map_err(|e| format!("check failed to run: {e}"))?;
        if !report.problems.is_empty() {
            return Err(format!("check found problems: {:?}", report.problems));
        }
        store
            .flush()
            .map_err(|e| format!("flushing after recovery: {e}"))?;
        Ok(())
    }

    fn count_faults(&mut self) {
        for line in &self.last_cut {
            self.tally.faults += 1;
            self.tally.flips += u64::from(line.contains("flipped"));
        }
    }

    /// Compares the reopened store with what was acknowledged, then takes what it holds as
    /// the truth for the next round.
    fn verify(&mut self, store: &SledStore) -> Result<(), String> {
        let e = |e: StoreError| e.to_string();
        let mut gone = Vec::new();
        for (id, case) in &mut self.model.cases {
            let label = id.short_label();
            let exists = store.mailbox(id).map_err(e)?.is_some();
            let destroyed = case.deleted == Some(true) || case.swept;
            let may_be_gone = case.deleted.is_some() || !case.opened || case.doomed;
            if exists && destroyed {
                return Err(format!(
                    "mailbox {label}: destroyed, and back after the cut"
                ));
            }
            if !exists && !may_be_gone {
                return Err(format!(
                    "mailbox {label}: acknowledged, and lost in the cut"
                ));
            }
            let t = &mut self.tally;
            t.acked_deletions += u64::from(destroyed);
            t.acked_opens += u64::from(exists && case.opened);
            if !case.opened {
                t.unacked_kept += u64::from(exists);
                t.unacked_lost += u64::from(!exists);
            }
            let stored = store.envelopes(id, 0, usize::MAX).map_err(e)?;
            if exists && stored.is_empty() {
                return Err(format!("mailbox {label}: there, with no envelope"));
            }
            if !exists {
                if !stored.is_empty() {
                    return Err(format!("mailbox {label}: gone, but its envelopes are not"));
                }
                gone.push(*id);
                continue;
            }
            for (i, env) in stored.iter().enumerate() {
                let expected = case.envelopes.get(i).map(|(json, _)| json);
                if env.seq != i as u64 + 1 || expected != Some(&env.json) {
                    return Err(format!(
                        "mailbox {label}: envelope {} is not the one appended",
                        env.seq
                    ));
                }
            }
            let acked = case
                .envelopes
                .iter()
                .rposition(|(_, a)| *a)
                .map_or(0, |i| i + 1);
            if stored.len() < acked {
                return Err(format!(
                    "mailbox {label}: {} envelopes after the cut, {acked} acknowledged",
                    stored.len()
                ));
            }
            let unacked = case.envelopes.len() - acked;
            let kept = stored.len() - acked;
            let t = &mut self.tally;
            t.acked_envelopes += acked as u64;
            t.unacked_kept += kept as u64;
            t.unacked_lost += (unacked - kept) as u64;
            case.opened = true;
            case.deleted = None;
            case.envelopes.truncate(stored.len());
            for (_, a) in &mut case.envelopes {
                *a = true;
            }
        }
        for id in gone {
            self.model.cases.remove(&id);
        }
        let mut gone = Vec::new();
        for (id, package) in &mut self.model.packages {
            let label = id.short_label();
            let stored = store.package(id).map_err(e)?;
            let case_alive = self.model.cases.contains_key(&package.mailbox);
            match stored {
                Some(rec) if rec.mailbox != package.mailbox => {
                    return Err(format!("package {label}: not the one stored"));
                }
                Some(_) if !case_alive => {
                    return Err(format!("package {label}: outlived its mailbox"));
                }
                Some(rec) => {
                    // Wholly one of the states written, and none older than the last
                    // acknowledged.
                    let Some(at) = package.bodies.iter().position(|(_, b)| *b == rec.body) else {
                        return Err(format!(
                            "package {label}: its body is none of the {} written",
                            package.bodies.len()
                        ));
                    };
                    if at + 1 < package.acked {
                        return Err(format!(
                            "package {label}: back in state {:?} after {:?} was acknowledged",
                            package.bodies[at].0,
                            package.bodies[package.acked - 1].0
                        ));
                    }
                    let t = &mut self.tally;
                    t.acked_packages += u64::from(package.acked > 0);
                    t.acked_changes += package.acked.saturating_sub(1) as u64;
                    package.bodies.truncate(at + 1);
                    package.acked = at + 1;
                }
                None if package.acked > 0 && case_alive => {
                    return Err(format!(
                        "package {label}: acknowledged, and lost in the cut"
                    ));
                }
                None => gone.push(*id),
            }
        }
        for id in gone {
            self.model.packages.remove(&id);
        }
        Ok(())
    }
}

/// One thread's load.
struct Load {
    store: Arc<SledStore>,
    durability: Arc<Durability>,
    model: Arc<Mutex<Model>>,
    rng: StdRng,
    offices: Vec<OfficeId>,
    worker: u64,
}

impl Load {
    fn model(&self) -> std::sync::MutexGuard<'_, Model> {
        self.model.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for the group commit, as a handler does before it answers.
    fn durable(&self, runtime: &tokio::runtime::Runtime) -> bool {
        runtime.block_on(self.durability.wait()).is_ok()
    }

    fn expiry() -> Expiry {
        let at = |h: u64| (now() + h * HOUR).div_ceil(HOUR) * HOUR;
        Expiry {
            drawn: at(30 * 24 + 1),
            earliest: at(30 * 24),
            latest: at(32 * 24),
        }
    }

    /// One of this worker's cases that can still be written to.
    fn pick(&mut self) -> Option<MailboxId> {
        let mine: Vec<MailboxId> = self
            .model()
            .cases
            .iter()
            .filter(|(_, c)| c.owner == self.worker && !c.doomed && c.deleted.is_none())
            .map(|(id, _)| *id)
            .collect();
        (!mine.is_empty()).then(|| mine[self.rng.random_range(0..mine.len())])
    }

    fn work(&mut self) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        for _ in 0..OPS {
            let ok = match (self.rng.random_range(0..100u32), self.pick()) {
                (0..15, _) | (_, None) => self.open(&runtime),
                (15..75, Some(id)) => self.append(&runtime, id),
                (75..81, Some(id)) => self.put_package(&runtime, id),
                (81..88, Some(id)) => self.change_package(&runtime, id),
                (_, Some(id)) => self.delete(&runtime, id),
            };
            if !ok {
                return;
            }
        }
    }

    fn open(&mut self, runtime: &tokio::runtime::Runtime) -> bool {
        let doomed = self.rng.random_bool(0.15);
        let id = MailboxId::random(&mut self.rng);
        let first = self.envelope(id);
        let json = first.to_json();
        let mailbox = NewMailbox {
            id,
            office: self.offices[self.rng.random_range(0..self.offices.len())].clone(),
            signing_key: self.rng.random(),
            kem_key: self.rng.random(),
            expiry: if doomed { HOUR } else { Self::expiry().drawn },
            first,
        };
        let pow = token(TokenKind::Pow, &mut self.rng);
        if self.store.open_mailbox(&mailbox, &pow, &quotas()).is_err() {
            return false;
        }
        self.model().cases.insert(
            id,
            Case {
                doomed,
                owner: self.worker,
                envelopes: vec![(json, false)],
                ..Case::default()
            },
        );
        let durable = self.durable(runtime);
        if durable && let Some(case) = self.model().cases.get_mut(&id) {
            case.opened = true;
            if let Some(first) = case.envelopes.first_mut() {
                first.1 = true;
            }
        }
        durable
    }

    /// An envelope of mailbox `id` of random size: the store never opens one.
    fn envelope(&mut self, id: MailboxId) -> Envelope {
        // A padding bucket plus the AEAD tag, as every stored envelope is.
        let len = candor_protocol::padding::padded_len(self.rng.random_range(0..6000)) + 16;
        let stanza = || candor_protocol::envelope::Stanza {
            enc: [7; 32],
            key: [9; candor_protocol::envelope::WRAPPED_KEY_LEN],
        };
        Envelope {
            mailbox: id,
            direction: Direction::ToOffice,
            stanzas: [stanza(), stanza()],
            commit: self.rng.random(),
            ct: (0..len).map(|_| self.rng.random()).collect(),
        }
    }

    fn append(&mut self, runtime: &tokio::runtime::Runtime, id: MailboxId) -> bool {
        let envelope = self.envelope(id);
        let Ok(seq) = self
            .store
            .append(&id, &envelope, &Self::expiry(), &quotas())
        else {
            return false;
        };
        let index = {
            let mut model = self.model();
            let Some(case) = model.cases.get_mut(&id) else {
                return false;
            };
            assert_eq!(seq, case.envelopes.len() as u64 + 1, "sequence numbers");
            case.envelopes.push((envelope.to_json(), false));
            case.envelopes.len() - 1
        };
        let durable = self.durable(runtime);
        if durable && let Some(case) = self.model().cases.get_mut(&id) {
            case.envelopes[index].1 = true;
        }
        durable
    }

    fn put_package(&mut self, runtime: &tokio::runtime::Runtime, id: MailboxId) -> bool {
        let handoff = HandoffId::random(&mut self.rng);
        let body = State::Consented.body(&mut self.rng);
        let package = NewPackage {
            id: handoff,
            record: PackageRecord {
                mailbox: id,
                expiry: Self::expiry().drawn,
                body: body.clone(),
            },
        };
        match self.store.put_package(&package, &quotas()) {
            Ok(()) => {}
            // The case holds as many as it may: not a failure of the store.
            Err(StoreError::Quota(_)) => return true,
            Err(_) => return false,
        }
        self.model().packages.insert(
            handoff,
            Package {
                mailbox: id,
                bodies: vec![(State::Consented, body)],
                acked: 0,
            },
        );
        let durable = self.durable(runtime);
        if durable && let Some(p) = self.model().packages.get_mut(&handoff) {
            p.acked = p.acked.max(1);
        }
        durable
    }

    /// Moves one of case `id`'s handoffs on to a next state, in one `update_package`, as the
    /// relay's agreement, revocation and fetch do.
    fn change_package(&mut self, runtime: &tokio::runtime::Runtime, id: MailboxId) -> bool {
        let live: Vec<(HandoffId, State, Vec<u8>)> = self
            .model()
            .packages
            .iter()
            .filter(|(_, p)| p.mailbox == id)
            .filter_map(|(h, p)| p.bodies.last().map(|(s, b)| (*h, *s, b.clone())))
            .filter(|(_, s, _)| !s.next().is_empty())
            .collect();
        if live.is_empty() {
            return self.put_package(runtime, id);
        }
        let (handoff, state, expected) = live[self.rng.random_range(0..live.len())].clone();
        let next = state.next()[self.rng.random_range(0..state.next().len())];
        let body = next.body(&mut self.rng);
        let mut seen = None;
        let result = self
            .store
            .update_package(&handoff, &Self::expiry(), &mut |current| {
                seen = Some(current.body == expected);
                Ok(body.clone())
            });
        if result.is_err() {
            return false;
        }
        assert_eq!(seen, Some(true), "the update saw the body last written");
        let index = {
            let mut model = self.model();
            let Some(p) = model.packages.get_mut(&handoff) else {
                return false;
            };
            p.bodies.push((next, body));
            p.bodies.len()
        };
        let durable = self.durable(runtime);
        if durable && let Some(p) = self.model().packages.get_mut(&handoff) {
            p.acked = p.acked.max(index);
        }
        durable
    }

    fn delete(&mut self, runtime: &tokio::runtime::Runtime, id: MailboxId) -> bool {
        if self.store.delete_mailbox(&id).is_err() {
            return false;
        }
        if let Some(case) = self.model().cases.get_mut(&id) {
            case.deleted = Some(false);
        }
        let durable = self.durable(runtime);
        if durable && let Some(case) = self.model().cases.get_mut(&id) {
            case.deleted = Some(true);
        }
        durable
    }

    /// Sweeps, compactions and checkpoints, until the power goes or `stop`.
    fn maintain(&mut self, stop: &AtomicBool) {
        while !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_micros(self.rng.random_range(100..3000)));
            let ok = match self.rng.random_range(0..3u32) {
                0 => {
                    // Every doomed case whose open was acknowledged before the sweep began.
                    let due: Vec<MailboxId> = self
                        .model()
                        .cases
                        .iter()
                        .filter(|(_, c)| c.doomed && c.opened)
                        .map(|(id, _)| *id)
                        .collect();
                    match self.store.sweep(now(), 100_000) {
                        Ok(swept) => {
                            assert!(!swept.more, "one batch sweeps everything here");
                            let mut model = self.model();
                            for id in due {
                                if let Some(case) = model.cases.get_mut(&id) {
                                    case.swept = true;
                                }
                            }
                            true
                        }
                        Err(_) => false,
                    }
                }
                // Far enough ahead that the head is sealed and every dead record is due.
                1 => self.store.compact(now() + 3 * DAY).is_ok(),
                _ => self.store.flush().is_ok(),
            };
            // Every store error here comes from the power being off.
            if !ok {
                return;
            }
        }
    }
}
