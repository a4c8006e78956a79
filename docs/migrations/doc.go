// Package migrations holds the code of the migration pages of the cookbook
// (docs/migrating-from-*.md): each page's before and after, run side by
// side against the peer they come from. It is a module of its own so that
// the peers never become dependencies of the structured module.
package migrations
