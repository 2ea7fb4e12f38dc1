// Writes EIP-2335 keystores of the interop keys 0..N-1 for the end-to-end devnet (lodestar_devnet.sh): `lodestar
// dev --genesisValidators N` starts its chain with exactly these validators (eth2 interop spec: secret key i is
// sha256(i as 32 little-endian bytes) mod r; the values are test/data/bls/interop_keys_0_63.json). Public keys,
// test use only.
//   cachet_e2e_interop_keystores N DIR   (DIR/keys/*.json, DIR/passwords/*.txt)
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>

#include "support/fixtures.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: " << argv[0] << " N DIR\n";
    return 2;
  }
  try {
    const std::size_t count = std::stoul(argv[1]);
    const auto keys = cachet::test::interop_keys(count);
    if (keys.size() != count) {
      std::cerr << "only " << keys.size() << " interop keys known\n";
      return 1;
    }
    cachet::test::write_keystores(argv[2], keys);
    std::cout << "wrote " << count << " interop keystores to " << argv[2] << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
}
