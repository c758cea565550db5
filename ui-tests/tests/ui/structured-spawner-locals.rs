// Spawns through a local, a fully qualified call, a glob import and a rename are seen too.

use taskgroup::structured;

#[structured]
async fn f() {
    let handle = tokio::runtime::Handle::current();
    let _detached = handle.spawn(async {}); //~ ERROR
    let mut set = tokio::task::JoinSet::new();
    tokio::task::JoinSet::spawn(&mut set, async {}); //~ ERROR
    use tokio::task::*; //~ ERROR
    use std::thread as th; //~ ERROR
    let _ = yield_now;
    let _ = th::current;
}

fn main() {}
