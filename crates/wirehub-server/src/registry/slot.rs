//! [`ConnectionSlot`]: one admitted connection's place in the registry and
//! in the limits' counts, given back when it is dropped.

use super::{Closer, Connections};
use crate::conn::Transport;
use std::sync::{Arc, Weak};

/// One open connection's place in the [`Connections`] registry (and the
/// limits' counts); dropping it, when the connection's driver is done with
/// it, frees the place.
pub struct ConnectionSlot {
    registry: Arc<Connections>,
    id: u64,
}

impl std::fmt::Debug for ConnectionSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionSlot")
            .field("id", &self.id)
            .finish()
    }
}

impl ConnectionSlot {
    pub(super) fn new(registry: Arc<Connections>, id: u64) -> Self {
        ConnectionSlot { registry, id }
    }

    /// Hands the registry the connection's close handle (the drain closes
    /// the connection through it).
    pub(crate) fn attach<C: Closer + 'static>(&self, closer: &Arc<C>) {
        let weak: Weak<dyn Closer> = Arc::downgrade(closer) as Weak<dyn Closer>;
        self.registry.attach(self.id, weak);
    }

    /// The connection now runs over `transport` (an Engine.IO upgrade).
    pub(crate) fn set_transport(&self, transport: Transport) {
        self.registry.retag(self.id, transport);
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.registry.release(self.id);
    }
}
