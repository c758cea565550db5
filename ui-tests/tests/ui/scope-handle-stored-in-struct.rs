// The scope handle cannot be stored in a struct that outlives the scope.

use taskgroup::Scope;

struct Keeper<'scope, 'env> {
    handle: Option<Scope<'scope, 'env>>,
}

async fn f() {
    let mut keeper = Keeper { handle: None };
    let _ = taskgroup::scope(async |s| {
        keeper.handle = Some(s);
        Ok::<_, std::io::Error>(())
    })
    .await;
    let _ = keeper.handle.is_some();
}

fn main() {}
