//! Worlds the tests build through the AWS API: healthy ones, to break one thing at a time.

use crate::support::{Account, Keys};

pub const FULL_ACCESS: &str = "arn:aws:iam::aws:policy/AmazonSESFullAccess";
pub const DOMAIN: &str = "example.com";

/// A user who can send: AmazonSESFullAccess, example.com verified in `region`, production
/// access there.
pub async fn healthy_sender(account: &Account, user: &str, region: &str) -> Keys {
    let keys = account.create_user_with_key(user).await;
    account.attach_policy(user, FULL_ACCESS).await;
    account.create_identity(region, DOMAIN, true).await;
    account.set_ses_account(region, true, true);
    keys
}
