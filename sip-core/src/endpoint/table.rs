//! The endpoint's transaction tables and the indexes that find transactions.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Instant;

use crate::transaction::{
    ClientKey, ClientTransaction, InvalidState, Output, ServerKey, ServerTransaction, Transport,
    TxId,
};
use crate::{Message, Method};

/// A live server transaction and what the endpoint keeps beside it.
#[derive(Debug)]
pub(crate) struct ServerEntry {
    pub(crate) tx: ServerTransaction,
    key: ServerKey,
    merge: Option<Box<str>>,
    pub(crate) source: SocketAddr,
    pub(crate) to_tag: Box<str>,
}

#[derive(Debug, Default)]
pub(crate) struct Table {
    clients: HashMap<TxId, (ClientKey, ClientTransaction)>,
    client_keys: HashMap<ClientKey, TxId>,
    servers: HashMap<TxId, ServerEntry>,
    server_keys: HashMap<ServerKey, TxId>,
    /// From tag, Call-ID, CSeq of requests without a To tag (§8.2.2.2 merge detection) and
    /// of every INVITE, re-INVITEs included (matching the ACK of a 2xx to its INVITE).
    merges: HashMap<Box<str>, TxId>,
}

/// The §8.2.2.2 identity of a request: From tag, Call-ID, CSeq number and `method`.
fn merge_key(req: &Message, method: Method<'_>) -> Option<Box<str>> {
    let from = req.from().ok()?;
    let cseq = req.cseq().ok()?;
    Some(
        format!(
            "{}\n{}\n{}\n{}",
            from.tag().unwrap_or(""),
            req.call_id().ok()?.0,
            cseq.seq,
            method.as_str()
        )
        .into(),
    )
}

fn has_to_tag(req: &Message) -> bool {
    req.to().is_ok_and(|t| t.tag().is_some())
}

impl Table {
    pub(crate) fn counts(&self) -> (usize, usize) {
        (self.clients.len(), self.servers.len())
    }

    pub(crate) fn client(&self, id: TxId) -> Option<&ClientTransaction> {
        self.clients.get(&id).map(|(_, tx)| tx)
    }

    pub(crate) fn server(&self, id: TxId) -> Option<&ServerEntry> {
        self.servers.get(&id)
    }

    pub(crate) fn has_client(&self, key: &ClientKey) -> bool {
        self.client_keys.contains_key(key)
    }

    pub(crate) fn client_id(&self, key: &ClientKey) -> Option<TxId> {
        self.client_keys.get(key).copied()
    }

    pub(crate) fn server_id(&self, key: &ServerKey) -> Option<TxId> {
        self.server_keys.get(key).copied()
    }

    pub(crate) fn insert_client(&mut self, id: TxId, key: ClientKey, tx: ClientTransaction) {
        self.client_keys.insert(key.clone(), id);
        self.clients.insert(id, (key, tx));
    }

    pub(crate) fn insert_server(
        &mut self,
        id: TxId,
        key: ServerKey,
        tx: ServerTransaction,
        source: SocketAddr,
        to_tag: String,
    ) {
        let req = tx.request();
        let merge = req
            .cseq()
            .ok()
            .filter(|c| c.method == Method::Invite || !has_to_tag(req))
            .and_then(|c| merge_key(req, c.method));
        if let Some(m) = &merge {
            self.merges.insert(m.clone(), id);
        }
        self.server_keys.insert(key.clone(), id);
        self.servers.insert(
            id,
            ServerEntry {
                tx,
                key,
                merge,
                source,
                to_tag: to_tag.into(),
            },
        );
    }

    /// Whether `req` (which matched no transaction) merges with a live one: §8.2.2.2.
    pub(crate) fn is_merged(&self, req: &Message) -> bool {
        !has_to_tag(req)
            && req
                .cseq()
                .ok()
                .and_then(|c| merge_key(req, c.method))
                .is_some_and(|k| self.merges.contains_key(&k))
    }

    /// An ACK matched no transaction: find the INVITE whose 2xx it acknowledges.
    pub(crate) fn ack_2xx(&mut self, ack: &Message) -> Option<TxId> {
        let id = *self.merges.get(&merge_key(ack, Method::Invite)?)?;
        let e = self.servers.get_mut(&id)?;
        (e.tx.state() == crate::transaction::ServerState::Accepted).then(|| {
            e.tx.on_2xx_ack();
            id
        })
    }

    pub(crate) fn remove(&mut self, id: TxId) {
        if let Some((key, _)) = self.clients.remove(&id) {
            self.client_keys.remove(&key);
        }
        if let Some(e) = self.servers.remove(&id) {
            self.server_keys.remove(&e.key);
            if let Some(m) = e.merge
                && self.merges.get(&m) == Some(&id)
            {
                self.merges.remove(&m);
            }
        }
    }

    /// Where transaction `id` sends.
    pub(crate) fn peer(&self, id: TxId) -> Option<(Transport, SocketAddr)> {
        if let Some((_, tx)) = self.clients.get(&id) {
            return Some(tx.destination());
        }
        self.servers.get(&id).map(|e| e.tx.reply_to())
    }

    pub(crate) fn deadline(&self, id: TxId) -> Option<Instant> {
        if let Some((_, tx)) = self.clients.get(&id) {
            return tx.deadline();
        }
        self.servers.get(&id).and_then(|e| e.tx.deadline())
    }

    pub(crate) fn fire(&mut self, id: TxId, now: Instant) -> Vec<Output> {
        let mut outs = Vec::new();
        if let Some((_, tx)) = self.clients.get_mut(&id) {
            if tx.deadline().is_some_and(|d| d <= now) {
                tx.on_timer(now, &mut outs);
            }
        } else if let Some(e) = self.servers.get_mut(&id)
            && e.tx.deadline().is_some_and(|d| d <= now)
        {
            e.tx.on_timer(now, &mut outs);
        }
        outs
    }

    pub(crate) fn client_response(&mut self, id: TxId, now: Instant, resp: Message) -> Vec<Output> {
        let mut outs = Vec::new();
        if let Some((_, tx)) = self.clients.get_mut(&id) {
            tx.on_response(now, resp, &mut outs);
        }
        outs
    }

    pub(crate) fn server_request(&mut self, id: TxId, now: Instant, req: &Message) -> Vec<Output> {
        let mut outs = Vec::new();
        if let Some(e) = self.servers.get_mut(&id) {
            e.tx.on_request(now, req, &mut outs);
        }
        outs
    }

    pub(crate) fn respond(
        &mut self,
        id: TxId,
        now: Instant,
        resp: &Message,
    ) -> Result<Vec<Output>, super::EndpointError> {
        let e = self
            .servers
            .get_mut(&id)
            .ok_or(super::EndpointError::UnknownTransaction)?;
        let mut outs = Vec::new();
        e.tx.respond(now, resp, &mut outs)
            .map_err(|e: InvalidState| super::EndpointError::InvalidState(e))?;
        Ok(outs)
    }

    /// Ends every transaction talking to `destination` over `transport` with a transport error.
    pub(crate) fn transport_error(
        &mut self,
        transport: Transport,
        destination: SocketAddr,
    ) -> Vec<(TxId, Vec<Output>)> {
        let mut done = Vec::new();
        for (id, (_, tx)) in &mut self.clients {
            if tx.destination() == (transport, destination) {
                let mut outs = Vec::new();
                tx.on_transport_error(&mut outs);
                done.push((*id, outs));
            }
        }
        for (id, e) in &mut self.servers {
            if e.tx.reply_to() == (transport, destination) {
                let mut outs = Vec::new();
                e.tx.on_transport_error(&mut outs);
                done.push((*id, outs));
            }
        }
        done
    }
}
