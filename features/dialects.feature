@dialects
Feature: Dialects
  The reference server emulates a vendor's dialect when a scenario (or `certify --profile`) picks
  one of the profiles in profiles/ (docs/profiles.md): the dialect's capabilities, limits and
  rules, as data. An operation the dialect lacks is refused with 501 before anything else is
  looked at, and changes nothing; a scenario that needs one is unimplemented under that dialect,
  not failed. The probe step checks that the system really refuses each of them.

  Scenario Outline: <dialect> refuses every operation it lacks with 501
    Given the dialect is "<dialect>"
    And users alice and bob
    And alice calls bob
    And bob accepts
    Then alice is refused every operation the dialect lacks
    And nobody sees anything more
    And the call is connected

    Examples:
      | dialect    |
      | mirrorfly  |
      | cometchat  |
      | stringee   |
      | voximplant |
      | stream     |

  Scenario Outline: Voximplant's sendDigits takes only 0-9 * # p: "<digits>" is refused
    Given the dialect is "voximplant"
    And users alice and bob
    And alice calls bob
    And bob accepts
    When alice sends DTMF "<digits>"
    Then it fails with 400 saying "is not a DTMF digit (0-9 * # p)"
    And nobody sees anything more

    Examples:
      | digits |
      | A      |
      | B      |
      | C      |
      | D      |
      | 1A     |

  Scenario: Voximplant relays every digit of its set
    Given the dialect is "voximplant"
    And users alice and bob
    And alice calls bob
    And bob accepts
    When alice sends DTMF "0123456789*#p"
    Then bob sees "call-1: DTMF \"0123456789*#p\" from alice"

  Scenario: Voximplant transfers between two apps; Stringee and the canonical model do not
    Given the dialect is "voximplant"
    And users alice, dave and carol
    And alice calls dave
    And dave accepts
    When alice transfers the call to carol
    Then dave sees:
      """
      call-1: alice transferring to carol
      call-1: carol ringing
      """
    And carol sees "call-1: incoming Audio call from alice (transferred by alice)"

  Scenario: Stringee refuses a transfer between two apps with 403
    Given the dialect is "stringee"
    And users alice, dave and carol
    And alice calls dave
    And dave accepts
    When alice transfers the call to carol
    Then it fails with 403 saying "app-to-phone or phone-to-app"
    And nobody sees anything more

  Scenario: Without a session step the call is connected on the accept (Stream)
    Given the dialect is "stream"
    And devices do not start the media session automatically
    And users alice and bob
    And alice calls bob
    When bob accepts
    Then alice sees:
      """
      call-1: bob joined
      call-1: status connecting
      call-1: status connected
      """
    And bob sees:
      """
      call-1: status connecting
      call-1: status connected
      """

  Scenario: Stream's host needs the end-call permission to end the call for everyone
    Given the dialect is "stream"
    And users alice and bob
    And alice calls bob
    And bob accepts
    When alice ends the call for everyone
    Then it fails with 403
    Given alice may end calls for everyone
    When alice ends the call for everyone
    Then alice and bob see "call-1: ended, ended for everyone by alice"
