// The scope handle cannot be stored in a static: it does not live for `'static`.

use std::sync::Mutex;

use taskgroup::Scope;

static HANDLE: Mutex<Option<Scope<'static, 'static>>> = Mutex::new(None);

async fn f() {
    let _ = taskgroup::scope(async |s| {
        *HANDLE.lock().unwrap() = Some(s);
        Ok::<_, std::io::Error>(())
    })
    .await;
}

fn main() {}
