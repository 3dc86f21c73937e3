@authorization
Feature: Authorization refusals
  Only members act on a call: anyone else is refused with 403 before anything else is looked at,
  and never hears anything of the call. A call that does not exist is 404 (Stringee code 1); a call
  that has ended is 410 for its members.

  Background:
    Given users alice, bob, carol and dave
    And a group team of alice, bob and dave

  Scenario Outline: Someone who is not a member is refused with 403: <operation>
    Given alice places an audio call in team to bob
    And bob accepts
    When carol <operation>
    Then it fails with 403 saying "not a member of the call"
    And nobody sees anything more

    Examples:
      | operation                               |
      | accepts call-1                          |
      | declines call-1                         |
      | cancels call-1                          |
      | hangs up call-1                         |
      | ends call-1 for everyone                |
      | joins call-1                            |
      | invites dave to call-1                  |
      | acknowledges ringing call-1             |
      | starts the media session call-1         |
      | holds call-1                            |
      | mutes audio in call-1                   |
      | sends DTMF "1" in call-1                |
      | sends info "text/plain" with body "x" in call-1 |
      | sends a message "x" in call-1           |
      | sets custom data "x" in call-1          |
      | starts early media call-1               |
      | transfers call-1 to dave                |
      | asks for the state of call-1            |

  Scenario: Membership is checked before the arguments
    Given alice calls bob
    And bob accepts
    When carol sends DTMF "not digits" in call-1
    Then it fails with 403
    When carol declines call-1 with 999
    Then it fails with 403
    When carol sends a message of 9000 bytes in call-1
    Then it fails with 403

  Scenario: After the end, members are told 410 and others still 403
    Given alice calls bob
    And bob accepts
    And bob hangs up
    When alice asks for the state of the call
    Then it fails with 410
    When bob hangs up
    Then it fails with 410
    When carol asks for the state of call-1
    Then it fails with 403

  Scenario Outline: A call that does not exist is refused with 404: <operation>
    When <who> <operation>
    Then it fails with 404 saying "no such call"

    Examples:
      | who   | operation                     |
      | bob   | accepts call-9                |
      | bob   | declines call-9               |
      | alice | hangs up call-9               |
      | alice | asks for the state of call-9  |

  Scenario: Someone who is not a member never receives anything of the call
    Given alice places a video call in team to bob and dave
    And bob accepts
    And dave accepts
    When alice holds the call
    And bob mutes video
    And dave sends DTMF "5"
    And alice sends a message "hi"
    And bob hangs up
    And alice ends the call for everyone
    Then carol sees nothing
    And bob sees:
      """
      call-1: alice held the call
      call-1: DTMF "5" from dave
      call-1: message (2 B) from alice
      call-1: detached, left
      """
    And dave sees:
      """
      call-1: alice held the call
      call-1: bob muted Video
      call-1: message (2 B) from alice
      call-1: bob left
      call-1: ended, ended for everyone by alice
      """
    And alice sees:
      """
      call-1: bob muted Video
      call-1: DTMF "5" from dave
      call-1: bob left
      call-1: ended, ended for everyone by alice
      """
