//! The argument types that event handlers take, on the server and the
//! client alike, and how each is read from an event's arguments. Each side
//! implements its own extractor trait over them (with its own socket and
//! ack types); the types and their reading live here once.

use super::Args;
use crate::Str;
use bytes::Bytes;
use serde::de::DeserializeOwned;

/// The first argument (or, in a connect handler, the auth payload),
/// deserialised.
#[derive(Debug, Clone)]
pub struct Data<T>(pub T);

/// The first argument, or why it did not deserialise.
#[derive(Debug)]
pub struct TryData<T>(pub Result<T, serde_json::Error>);

/// Every argument, deserialised as one sequence (tuple, `Vec`, array...).
#[derive(Debug, Clone)]
pub struct Seq<T>(pub T);

/// The arguments as received: raw JSON plus attachments, to pass on.
#[derive(Debug, Clone)]
pub struct RawArgs(pub Args);

/// The binary attachments of the event.
#[derive(Debug, Clone)]
pub struct Bin(pub Vec<Bytes>);

/// The event's name.
#[derive(Debug, Clone)]
pub struct Event(pub Str);

impl<T: DeserializeOwned> Data<T> {
    /// The first argument of `args` (a missing one reads as `null`).
    pub fn from_args(args: &Args) -> Result<Self, serde_json::Error> {
        args.get(0).map(Data)
    }
}

impl<T: DeserializeOwned> TryData<T> {
    /// The first argument of `args`, or the error.
    pub fn from_args(args: &Args) -> Self {
        TryData(args.get(0))
    }
}

impl<T: DeserializeOwned> Seq<T> {
    /// All of `args` as one sequence.
    pub fn from_args(args: &Args) -> Result<Self, serde_json::Error> {
        args.to_seq().map(Seq)
    }
}

impl RawArgs {
    /// `args`, untouched.
    pub fn from_args(args: &Args) -> Self {
        RawArgs(args.clone())
    }
}

impl Bin {
    /// The attachments of `args`.
    pub fn from_args(args: &Args) -> Self {
        Bin(args.attachments().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::socketio::Binary;

    #[test]
    fn reads_the_arguments() {
        let args = Args::many(&(1, "x", Binary::from(vec![9u8]))).unwrap();
        assert_eq!(Data::<u8>::from_args(&args).unwrap().0, 1);
        assert!(TryData::<String>::from_args(&args).0.is_err());
        let Seq((a, b, c)) = Seq::<(u8, String, Binary)>::from_args(&args).unwrap();
        assert_eq!((a, b.as_str(), &c[..]), (1, "x", &[9u8][..]));
        assert_eq!(RawArgs::from_args(&args).0, args);
        assert_eq!(Bin::from_args(&args).0, [Bytes::from_static(&[9])]);
        assert_eq!(
            Data::<Option<u8>>::from_args(&Args::empty()).unwrap().0,
            None
        );
    }
}
