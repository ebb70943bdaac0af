import Testing

@testable import ForkGuardDriver

@Suite("Automake libraries")
struct AutomakeLibrariesTests {
  @Test func privateLibrariesListTheirSources() {
    let makefile = """
      noinst_LIBRARIES = libinetutils.a
      lib_LTLIBRARIES = libpublic.la
      libinetutils_a_SOURCES = \\
       argcv.c\\
       daemon.c \\
       tftpsubs.h
      libinetutils_a_SOURCES += setsig.c # added later
      libpublic_la_SOURCES = api.c
      EXTRA_LTLIBRARIES += libcommon.la
      libcommon_la_SOURCES = lib/strutils.c $(GENERATED)
      """
    #expect(
      AutomakeLibraries.privateSources(makefile).sorted() == [
        "argcv.c", "daemon.c", "lib/strutils.c", "setsig.c",
      ])
  }
}
