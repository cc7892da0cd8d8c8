//! A credential bound to one cloud's authority is refused by a client of
//! another cloud, so its tokens never reach that cloud's Graph.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use graph_auth::{ClientSecretCredential, CredentialOptions, DefaultCredential, StaticToken};
use graph_model::NationalCloud;
use graph_transport::{
    ClientOptions, Error, GraphClient, MockTransport, TokenCredential, Transport,
};

fn transport() -> Arc<dyn Transport> {
    Arc::new(MockTransport::new())
}

fn secret_for(cloud: NationalCloud) -> Arc<dyn TokenCredential> {
    Arc::new(
        ClientSecretCredential::new(
            "contoso.onmicrosoft.com",
            "client",
            "secret",
            transport(),
            CredentialOptions::new(cloud),
        )
        .unwrap(),
    )
}

fn client(
    credential: Arc<dyn TokenCredential>,
    cloud: NationalCloud,
) -> Result<GraphClient, Error> {
    GraphClient::new(transport(), credential, ClientOptions::new(cloud))
}

#[test]
fn every_pair_of_clouds_is_checked_by_authority() {
    let clouds = [
        NationalCloud::Global,
        NationalCloud::UsGovL4,
        NationalCloud::UsGovL5Dod,
        NationalCloud::China,
    ];
    for signed_in in &clouds {
        for calling in &clouds {
            let result = client(secret_for(signed_in.clone()), calling.clone());
            // L4 and L5 share login.microsoftonline.us; the token's scope
            // (the client's Graph root) tells them apart.
            if signed_in.authority_host() == calling.authority_host() {
                assert!(result.is_ok(), "{signed_in} → {calling}");
            } else {
                let e = result.err().unwrap();
                let text = e.to_string();
                assert!(matches!(e, Error::InvalidOptions(_)), "{e:?}");
                assert!(text.contains(signed_in.authority_host()), "{text}");
                assert!(text.contains(calling.graph_root()), "{text}");
            }
        }
    }
}

#[test]
fn the_default_chain_is_bound_to_the_cloud_it_was_built_for() {
    let chain = Arc::new(DefaultCredential::from_env(
        |_| None,
        transport(),
        CredentialOptions::new(NationalCloud::China),
    ));
    assert!(client(chain.clone(), NationalCloud::China).is_ok());
    assert!(client(chain, NationalCloud::Global).is_err());
}

#[test]
fn custom_authorities_compare_without_case_or_trailing_slash() {
    let ours = NationalCloud::custom("http://127.0.0.1:9/", "http://LOCALHOST:9/").unwrap();
    let same = NationalCloud::custom("http://127.0.0.1:9", "http://localhost:9").unwrap();
    let other = NationalCloud::custom("http://127.0.0.1:9", "http://localhost:10").unwrap();
    let bound = Arc::new(
        ClientSecretCredential::new(
            "t",
            "c",
            "s",
            transport(),
            CredentialOptions::new(ours).allow_http_loopback(true),
        )
        .unwrap(),
    );
    let opts = |c: NationalCloud| ClientOptions::new(c).allow_http_loopback(true);
    assert!(GraphClient::new(transport(), bound.clone(), opts(same)).is_ok());
    assert!(GraphClient::new(transport(), bound, opts(other)).is_err());
}

#[test]
fn unbound_credentials_fit_any_cloud() {
    // A static token or a managed identity gets a token for whatever scope
    // it is asked; the client asks for its own cloud's.
    let token: Arc<dyn TokenCredential> = Arc::new(StaticToken::new("t"));
    assert_eq!(token.authority_host(), None);
    assert!(client(token, NationalCloud::UsGovL5Dod).is_ok());
}
