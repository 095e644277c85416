//! Installed plugins as users see them.

use std::sync::Arc;

use crate::plugins::registry::{ListedPlugin, Registry};

#[derive(Clone)]
pub struct Plugins {
    registry: Arc<Registry>,
}

impl Plugins {
    pub fn new(registry: Arc<Registry>) -> Self {
        Plugins { registry }
    }

    /// Built-in and operator-installed plugins.
    pub fn list(&self) -> Vec<ListedPlugin> {
        self.registry.list()
    }
}
