# `cpack -G DEB` in the build directory: cachet_<version>_amd64.deb with /usr/bin/cachet, the hardened systemd
# unit, /etc/cachet/cachet.toml (a conffile) and the maintainer scripts of packaging/debian (the `cachet` user,
# /var/lib/cachet, and a purge that never deletes a slashing-protection database). README "Debian package".
if(NOT TARGET cachet_cli)
  return()
endif()

set(packaging_dir ${PROJECT_SOURCE_DIR}/packaging)
install(TARGETS cachet_cli RUNTIME DESTINATION bin)
install(FILES ${packaging_dir}/cachet.service DESTINATION /lib/systemd/system)
install(FILES ${packaging_dir}/cachet.toml DESTINATION /etc/cachet)
install(FILES ${packaging_dir}/debian/copyright ${PROJECT_SOURCE_DIR}/README.md
              ${PROJECT_SOURCE_DIR}/docs/operator-guide.md DESTINATION share/doc/cachet)
# Debian wants the changelog compressed, reproducibly (no name or time stamp in the gzip header).
set(changelog ${CMAKE_BINARY_DIR}/packaging/changelog.gz)
add_custom_command(OUTPUT ${changelog}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/packaging
  COMMAND gzip -9nc ${packaging_dir}/debian/changelog > ${changelog}
  DEPENDS ${packaging_dir}/debian/changelog VERBATIM)
add_custom_target(cachet_package_changelog ALL DEPENDS ${changelog})
install(FILES ${changelog} DESTINATION share/doc/cachet)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME cachet)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "The Cachet authors")
set(CPACK_PACKAGE_CONTACT "Cachet maintainers <maintainers@users.noreply.b-seed-86d95cb7.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "remote BLS signer for Ethereum validators")
# Extended description: lines of at most 80 characters (Debian policy 3.4.1).
set(CPACK_PACKAGE_DESCRIPTION
    "Cachet holds EIP-2335 keystores and signs for Ethereum validator clients\n\
over Web3Signer's HTTP API. It computes signing roots itself, refuses\n\
slashable blocks and attestations (EIP-3076; SQLite, or one PostgreSQL\n\
database shared by several signers), and signs with blst.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # cachet_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${packaging_dir}/debian/conffiles ${packaging_dir}/debian/postinst
                                      ${packaging_dir}/debian/prerm ${packaging_dir}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)

# The package built, checked (lintian), installed, removed and purged: root only (skipped otherwise), and only on a
# machine without Cachet installed. Not for sanitizer builds: nobody ships those.
if(CACHET_TESTS AND NOT CACHET_SANITIZE)
  add_test(NAME DebianPackage COMMAND bash ${PROJECT_SOURCE_DIR}/test/packaging/deb_package_test.sh ${CMAKE_BINARY_DIR})
  set_tests_properties(DebianPackage PROPERTIES SKIP_RETURN_CODE 77 LABELS packaging TIMEOUT 600)
endif()
