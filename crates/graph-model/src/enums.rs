//! The macro behind the generated enumerations of the synchronization API
//! (`generated/enums.rs`).
//!
//! Graph serialises enum members by name. The synchronization enums are not
//! declared "evolvable" (no `unknownFutureValue`), yet the service has grown
//! members before, so every enum keeps an [`Other`](SynchronizationStatusCode::Other)
//! variant that carries an unknown name through a parse/serialise round trip
//! instead of failing the whole response.

/// Declares a string enum with known members and an `Other(String)` catch-all.
macro_rules! graph_enum {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A member this version of graphsync does not know, kept verbatim.
            Other(String),
        }

        impl $name {
            /// Every member this version knows, in declaration order.
            pub const KNOWN: &'static [$name] = &[$($name::$variant),+];

            /// The member's name as Graph writes it on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $wire, )+
                    $name::Other(s) => s.as_str(),
                }
            }

            /// Whether this is a member this version knows.
            pub fn is_known(&self) -> bool {
                !matches!(self, $name::Other(_))
            }

            fn from_wire(s: &str) -> Self {
                match s {
                    $( $wire => $name::$variant, )+
                    _ => Self::from_wire_folded(s),
                }
            }

            // Graph has changed the casing of enum members between versions
            // (see `SynchronizationMetadata`), so a case-insensitive match is
            // tried before giving up on a name.
            fn from_wire_folded(s: &str) -> Self {
                $( if s.eq_ignore_ascii_case($wire) { return $name::$variant; } )+
                $name::Other(s.to_owned())
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(Self::from_wire(s))
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(deserializer)?;
                Ok(Self::from_wire(&s))
            }
        }

        impl crate::lenient::WireName for $name {
            fn from_wire_name(s: &str) -> Self {
                Self::from_wire(s)
            }
        }
    };
}

pub(crate) use graph_enum;

#[cfg(test)]
mod tests {
    use crate::generated::enums::*;

    #[test]
    fn known_members_round_trip() {
        for code in SynchronizationStatusCode::KNOWN {
            let json = serde_json::to_string(code).unwrap();
            let back: SynchronizationStatusCode = serde_json::from_str(&json).unwrap();
            assert_eq!(&back, code);
        }
        assert_eq!(
            serde_json::to_string(&QuarantineReason::TooManyDeletes).unwrap(),
            "\"TooManyDeletes\""
        );
    }

    #[test]
    fn unknown_member_is_kept_verbatim() {
        let v: SynchronizationStatusCode = serde_json::from_str("\"Hibernating\"").unwrap();
        assert_eq!(v, SynchronizationStatusCode::Other("Hibernating".into()));
        assert!(!v.is_known());
        assert_eq!(serde_json::to_string(&v).unwrap(), "\"Hibernating\"");
    }

    #[test]
    fn beta_camel_case_metadata_parses_to_the_same_member() {
        let v: SynchronizationMetadata =
            serde_json::from_str("\"galleryApplicationIdentifier\"").unwrap();
        assert_eq!(v, SynchronizationMetadata::GalleryApplicationIdentifier);
        let v: SynchronizationMetadata = serde_json::from_str("\"oAuthSettings\"").unwrap();
        assert_eq!(v, SynchronizationMetadata::OAuthSettings);
    }
}
