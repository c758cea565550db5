use taskgroup::structured;

#[structured(strict)]
async fn f() {}

fn main() {}
