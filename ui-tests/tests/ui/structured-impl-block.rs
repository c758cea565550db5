// On an `impl` block, every method is checked, including spawns inside closures and macros.

use taskgroup::structured;

struct Service;

async fn fetch() -> Result<u32, std::io::Error> {
    Ok(1)
}

#[structured]
impl Service {
    async fn start(&self) {
        let handles: Vec<_> = (0..3).map(|_| tokio::spawn(fetch())).collect(); //~ ERROR
        drop(handles);
    }

    fn background(&self) {
        let _thread = std::thread::spawn(|| ()); //~ ERROR
    }

    async fn logged(&self) {
        println!("{:?}", tokio::task::spawn_blocking(|| 1).is_finished()); //~ ERROR
    }
}

fn main() {}
