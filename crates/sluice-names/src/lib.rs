//! Name intelligence: typosquats, private-name squats, cross-registry names, flood campaigns.
#![warn(missing_docs)]
