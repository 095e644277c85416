//! How many core instances, memories and tables one instance of a component
//! creates, read from its binary at load. A store's limiter must allow at
//! least that: a Rust plugin needs a handful, a Python one (CPython plus
//! its WASI adapters) seventeen instances. Sizing the limits per component
//! keeps them tight for small plugins without raising them for everyone.

use wasmtime::wasmparser::{Instance, Parser, Payload};

/// The least a store limiter allows, whatever the component declares.
const FLOOR: Footprint = Footprint {
    instances: 8,
    memories: 4,
    tables: 8,
};
/// Headroom over the count (component-level bookkeeping instances).
const MARGIN: usize = 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Footprint {
    pub instances: usize,
    pub memories: usize,
    pub tables: usize,
}

impl Footprint {
    /// Counts the core module instantiations and the memories and tables
    /// the modules define, over the component and every nested one. A
    /// binary that does not parse gets the floor (compiling it fails anyway).
    pub fn of(bytes: &[u8]) -> Footprint {
        let Some(counted) = count(bytes) else {
            return FLOOR;
        };
        Footprint {
            instances: (counted.instances + MARGIN).max(FLOOR.instances),
            memories: (counted.memories + MARGIN).max(FLOOR.memories),
            tables: (counted.tables + MARGIN).max(FLOOR.tables),
        }
    }
}

/// The raw counts; `None` when the binary does not parse.
fn count(bytes: &[u8]) -> Option<Footprint> {
    let mut counted = Footprint {
        instances: 0,
        memories: 0,
        tables: 0,
    };
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.ok()? {
            Payload::InstanceSection(section) => {
                counted.instances += section
                    .into_iter()
                    .filter(|instance| matches!(instance, Ok(Instance::Instantiate { .. })))
                    .count();
            }
            Payload::MemorySection(section) => counted.memories += section.count() as usize,
            Payload::TableSection(section) => counted.tables += section.count() as usize,
            _ => {}
        }
    }
    Some(counted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_components_get_the_floor_and_garbage_too() {
        let empty_component = b"\0asm\x0d\x00\x01\x00";
        assert_eq!(Footprint::of(empty_component), FLOOR);
        assert_eq!(Footprint::of(b"not wasm"), FLOOR);
    }

    #[test]
    fn nested_modules_are_counted() {
        // Bark: a Rust component (its module plus the WASI adapter's).
        let bark = count(crate::plugins::registry::BUILTINS[0]).expect("parses");
        assert!(bark.instances >= 2, "{bark:?}");
        assert!(bark.memories >= 1, "{bark:?}");
        assert!(Footprint::of(crate::plugins::registry::BUILTINS[0]).instances >= FLOOR.instances);
    }
}
