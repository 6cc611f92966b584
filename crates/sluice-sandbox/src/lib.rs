//! Dynamic analysis: run a package's install and import in isolated namespaces with a fake network.
#![warn(missing_docs)]
