use taskgroup::structured;

#[structured]
pub struct Service {
    _name: String,
}

fn main() {}
