// An inline format argument reads a sibling's result, which exists only after the group.

use taskgroup::{ErrorGroup, group};

async fn fetch_user(id: u32) -> Result<u32, std::io::Error> {
    Ok(id)
}

async fn f(id: u32) -> Result<(), ErrorGroup> {
    group! {
        user = fetch_user(id);
        audit = async {
            println!("audit {user}");
            Ok::<_, std::io::Error>(())
        };
    }
    let _ = (user, audit);
    Ok(())
}

fn main() {}
