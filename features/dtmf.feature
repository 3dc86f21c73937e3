@dtmf
Feature: DTMF
  A member of a connected call sends tones (Stringee sendDtmf, Voximplant sendDigits). The digits
  of the canonical lifecycle are 0-9, * and #, the RFC 4733 tones A-D, and p for a pause
  (Voximplant's own dialect stops at "0-9 * # p"); anything else is refused with 400, more than 64
  digits at once with 413. The other joined members receive
  them (Voximplant handleTones / ToneReceived); devices that only ring do not.

  Scenario Outline: Valid digits are relayed to the other side: <digits>
    Given users alice and bob
    And alice calls bob
    And bob accepts
    When <from> sends DTMF "<digits>"
    Then <to> sees "call-1: DTMF \"<digits>\" from <from>"
    And <from> sees nothing

    Examples:
      | from  | to    | digits       |
      | alice | bob   | 0123456789   |
      | alice | bob   | *#           |
      | bob   | alice | p            |
      | bob   | alice | 1p2p3#       |
      | alice | bob   | 1111111111111111111111111111111111111111111111111111111111111111 |

    @dtmf:ABCD
    Examples: the RFC 4733 tones A-D, where the dialect has them
      | from  | to    | digits       |
      | alice | bob   | A            |
      | alice | bob   | 12D          |
      | bob   | alice | ABCD         |

  Scenario Outline: Anything but the dialect's digits is refused with 400: "<digits>"
    Given users alice and bob
    And alice calls bob
    And bob accepts
    When alice sends DTMF "<digits>"
    Then it fails with 400
    And nobody sees anything more

    Examples:
      | digits |
      |        |
      | x      |
      | 1 2    |
      | 12+3   |
      | E      |
      | P      |
      | a      |

    @dtmf:!ABCD
    Examples: the RFC 4733 tones A-D, where the dialect has none of them
      | digits |
      | A      |
      | 12D    |

  Scenario: More than 64 digits at once is refused with 413
    Given users alice and bob
    And alice calls bob
    And bob accepts
    When alice sends DTMF "11111111111111111111111111111111111111111111111111111111111111111"
    Then it fails with 413 saying "over the limit of 64"

  Scenario: The digit limit is configurable
    Given the limit dtmf_digits_max is 4
    And users dave and erin
    And dave calls erin
    And erin accepts
    When dave sends DTMF "1234"
    Then erin sees "call-1: DTMF \"1234\" from dave"
    When dave sends DTMF "12345"
    Then it fails with 413

  @rule:session_start_required
  Scenario: DTMF needs a connected call
    Given devices do not start the media session automatically
    And users dave and erin
    And dave calls erin
    When dave sends DTMF "1"
    Then it fails with 422
    When erin sends DTMF "1"
    Then it fails with 422
    Given erin accepts
    When erin sends DTMF "1"
    Then it fails with 422 saying "the call is connecting"

  Scenario: In a group, DTMF reaches every other joined member and no ringing device
    Given users alice, bob, carol and dave
    And a group team of alice, bob, carol and dave
    And alice places an audio call in team to bob, carol and dave
    And bob accepts
    And carol accepts
    When carol sends DTMF "#"
    Then alice and bob see "call-1: DTMF \"#\" from carol"
    And carol and dave see nothing
