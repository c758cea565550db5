// A group in a trait impl's async method, borrowing `self`.

use taskgroup::{ErrorGroup, group};

trait Loader {
    async fn load(&self) -> Result<(u32, u32), ErrorGroup>;
}

struct Db {
    base: u32,
}

impl Db {
    async fn get(&self, n: u32) -> Result<u32, std::io::Error> {
        Ok(self.base + n)
    }
}

impl Loader for Db {
    async fn load(&self) -> Result<(u32, u32), ErrorGroup> {
        group! {
            a = self.get(1);
            b = self.get(2);
        }
        Ok((a, b))
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), ErrorGroup> {
    assert_eq!(Db { base: 10 }.load().await?, (11, 12));
    Ok(())
}
