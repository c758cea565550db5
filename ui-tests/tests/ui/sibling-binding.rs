// A task cannot use a sibling's result: the tasks run concurrently, and the bindings exist
// only after the group. (A task may use its own name: `id = parse(id)` reads the outer `id`.)

use taskgroup::{ErrorGroup, group};

async fn fetch_user(id: u32) -> Result<u32, std::io::Error> {
    Ok(id)
}

async fn fetch_orders(user: u32) -> Result<Vec<u32>, std::io::Error> {
    Ok(vec![user])
}

async fn f(id: u32) -> Result<(), ErrorGroup> {
    group! {
        user = fetch_user(id);
        orders = fetch_orders(user);
    }
    let _ = (user, orders);
    Ok(())
}

fn main() {}
