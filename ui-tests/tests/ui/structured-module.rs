// On an inline module: every function, method and nested module, and imports that would hide
// a bare `spawn(...)`. Scoped spawns are fine: `std::thread::scope`, `taskgroup::scope`'s
// `s.spawn`, a group's `spawn` tasks.

use taskgroup::structured;

#[structured]
mod jobs {
    use tokio::spawn as go; //~ ERROR

    async fn fetch() -> Result<u32, std::io::Error> {
        Ok(1)
    }

    pub async fn run() -> Result<(), taskgroup::ErrorGroup> {
        std::thread::scope(|s| {
            s.spawn(|| ());
        });
        taskgroup::group! {
            a = spawn fetch();
            b = fetch();
        }
        let _ = (a, b, go(fetch()));
        Ok(())
    }

    mod nested {
        pub(super) async fn leak() {
            drop(tokio::spawn(async {})); //~ ERROR
        }
    }
}

fn main() {}
