use taskgroup::{ErrorGroup, group};

struct User {
    name: String,
}

async fn fetch_user() -> Result<User, std::io::Error> {
    Ok(User { name: String::new() })
}

async fn f() -> Result<usize, ErrorGroup> {
    group! {
        user = fetch_user().await;
        orders = fetch_orders(1 +);
    }
    // Neither `user` nor `orders` is reported again below: only the two mistakes above are.
    let length = user.name.len() + orders.len();
    Ok(length)
}

fn main() {}
