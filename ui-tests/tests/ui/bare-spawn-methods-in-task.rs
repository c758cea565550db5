// Spawns written as methods: on the runtime's handle and on a thread builder.

use taskgroup::{ErrorGroup, group};

async fn fetch() -> Result<u32, std::io::Error> {
    Ok(1)
}

async fn f() -> Result<(), ErrorGroup> {
    group! {
        a = async {
            let _task = tokio::runtime::Handle::current().spawn(fetch()); //~ ERROR escapes its group
            let _thread = std::thread::Builder::new()
                .name("worker".into())
                .spawn(|| 1); //~ ERROR escapes its group
            Ok::<_, std::io::Error>(())
        };
        b = fetch();
    }
    let _ = (a, b);
    Ok(())
}

fn main() {}
