@status
Feature: Status progression
  A call's status only moves forward: calling → ringing → connecting → connected → ended
  (MirrorFly status; Voximplant state() ALERTING, PROGRESSING, CONNECTED, TERMINATED). Steps may
  be skipped, never repeated or undone. Every member of the session is told of each change, and a
  call ends exactly once, with one reason.

  @rule:session_start_required
  Scenario: Every step is told, with the SDK's automatic steps switched off
    Given devices do not acknowledge ringing automatically
    And devices do not start the media session automatically
    And users alice and bob
    When alice calls bob
    Then bob sees "call-1: incoming Audio call from alice"
    And alice sees nothing
    And the call is calling
    When bob acknowledges ringing
    Then alice sees:
      """
      call-1: bob ringing
      call-1: status ringing
      """
    And the call is ringing
    When bob accepts
    Then alice sees:
      """
      call-1: bob joined
      call-1: status connecting
      """
    And bob sees "call-1: status connecting"
    And the call is connecting
    When bob starts the media session
    Then nobody sees anything
    And the call is connecting
    When alice starts the media session
    Then alice and bob see "call-1: status connected"
    And the call is connected
    When alice hangs up
    Then alice and bob see "call-1: ended, hung up by alice"
    And the call is ended

  Scenario: The call-state query answers with the status and every member
    Given users alice and bob
    And 3 seconds pass
    And alice places a video call to bob
    And bob accepts
    When bob asks for the state of the call
    Then the reply has:
      | call            | 1         |
      | call_type       | video     |
      | caller          | alice     |
      | status          | connected |
      | created_ms      | 3000      |
      | end_reason      | none      |
      | members.0.user  | alice     |
      | members.0.state | joined    |
      | members.1.user  | bob       |
      | members.1.state | joined    |
    Given 7 seconds pass
    And alice hangs up
    When bob asks for the state of the call
    Then it fails with 410

  @rule:session_start_required
  Scenario: Accepting without a ringing acknowledgement skips ringing; later ones change nothing
    Given devices do not acknowledge ringing automatically
    And devices do not start the media session automatically
    And users alice, bob and carol
    And a group team of alice, bob and carol
    And alice places an audio call in team to bob and carol
    When bob accepts
    Then alice sees:
      """
      call-1: bob joined
      call-1: status connecting
      """
    And bob sees "call-1: status connecting"
    When carol acknowledges ringing
    Then alice and bob see "call-1: carol ringing"
    And the call is connecting

  Scenario: A third member joining a connected call changes no status
    Given users alice, bob and carol
    And a group team of alice, bob and carol
    And alice places an audio call in team to bob and carol
    And bob accepts
    When carol accepts
    Then alice and bob see "call-1: carol joined"
    And carol sees nothing
    And the call is connected

  Scenario: A call cancelled while calling goes straight to ended
    Given devices do not acknowledge ringing automatically
    And users alice and bob
    And alice calls bob
    When alice cancels
    Then alice and bob see "call-1: ended, cancelled by alice"
    And the call is ended

  Scenario: The media session starts once, and only for a member who answered
    Given devices do not start the media session automatically
    And users alice and bob
    And alice calls bob
    When alice starts the media session
    Then it fails with 422 saying "nobody has answered yet"
    When bob starts the media session
    Then it fails with 422
    Given bob accepts
    And bob starts the media session
    When bob starts the media session
    Then it fails with 422 saying "already started"

  Scenario: A call ends exactly once, with one reason
    Given users alice and bob
    And alice calls bob
    And bob accepts
    And bob hangs up
    When alice ends the call for everyone
    Then it fails with 410
    When alice hangs up
    Then it fails with 410
    And the call ended: hung up by bob
    And nobody sees anything more
