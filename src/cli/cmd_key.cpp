// `xop key new FILE`: makes a signing key for an admin (the corp's `admin_key_file`) or a server
// (its `key_file`), and `xop key show FILE` prints a key file's public key and account id.
//
// Contract of `key new`: FILE must not exist (it is never overwritten); the key is written to a
// temporary file beside it, fsynced with mode 0600, then linked into place (core/file_util.h
// write_file_new), so FILE either holds the whole key or does not exist, and a failed command
// leaves no key behind.
#include <iostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "crypto/keys.h"

namespace xop {

namespace {

Json key_json(const std::string& file, const KeyPair& k, const std::string& kind) {
  Json j{{"file", file}, {"account", k.account_id()}, {"public_key", k.public_key().base64()}};
  if (!kind.empty()) j["kind"] = kind;
  return j;
}

void print_key(const CliState& st, const std::string& verb, const std::string& file, const KeyPair& k,
               const std::string& kind) {
  if (st.json) {
    print_json(key_json(file, k, kind));
    return;
  }
  std::cout << verb << " " << file << "\n"
            << "account:    " << k.account_id() << "\n"
            << "public key: " << k.public_key().base64() << "\n";
  if (kind == "admin") {
    std::cout << "use it as the corp's admin_key_file, or give the corp admin_public_key = \""
              << k.public_key().base64() << "\"\n";
  } else if (kind == "server") {
    std::cout << "use it as the server's key_file (its account id is the server's id)\n";
  }
}

int run_new(const CliState& st, const std::string& file, const std::string& kind) {
  const KeyPair k = KeyPair::generate();
  if (auto s = create_key_file(k, file); !s) return fail(s.error());
  print_key(st, "wrote", file, k, kind);
  return 0;
}

int run_show(const CliState& st, const std::string& file) {
  auto k = load_key_file(file);
  if (!k) return fail(k.error());
  print_key(st, "key", file, *k, "");
  return 0;
}

}  // namespace

void add_key_command(CLI::App& app, CliState& st) {
  auto* key = app.add_subcommand("key", "Make and inspect signing keys (admin and server keys)");
  key->require_subcommand(1);

  struct NewArgs {
    std::string file;
    std::string kind = "server";
  };
  auto a = std::make_shared<NewArgs>();
  auto* add = key->add_subcommand("new", "Write a new key to FILE (mode 0600; never overwrites an existing file)");
  add->add_option("FILE", a->file, "Where to write the key")->required();
  add->add_option("--for", a->kind, "What the key is for (only changes the hint printed): admin or server")
      ->check(CLI::IsMember({"admin", "server"}));
  add->callback([a, &st] { st.code = run_new(st, a->file, a->kind); });

  auto file = std::make_shared<std::string>();
  auto* show = key->add_subcommand("show", "Print the account id and public key of a key file");
  show->add_option("FILE", *file, "A key file")->required();
  show->callback([file, &st] { st.code = run_show(st, *file); });
}

}  // namespace xop
