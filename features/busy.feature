@busy
Feature: Busy and call waiting
  A user in a call is busy: a new 1:1 call to them is refused with 486 and nothing rings, they
  cannot place another call, and accepting another invitation is refused. With call waiting on,
  the user is rung anyway and may be in several calls (Stream: a user may join several calls).
  A ringing user is not busy.

  Scenario: Calling a user who is in a connected call is refused with 486 and nothing rings
    Given users alice, carol and dave
    And user bob with devices phone and tablet
    And carol calls bob
    And bob/phone accepts
    When alice calls bob
    Then it fails with 486 saying "busy"
    And nobody sees anything more
    And call-1 is connected

  @rule:session_start_required
  Scenario: A user whose call is still connecting is busy too
    Given devices do not start the media session automatically
    And users alice, erin and frank
    And erin calls frank
    And frank accepts
    When alice calls frank
    Then it fails with 486
    And call-1 is connecting

  Scenario: The caller of an unanswered call is busy
    Given users alice, bob, carol and dave
    And carol calls bob
    When alice calls carol
    Then it fails with 486
    And nobody sees anything more

  Scenario: A ringing user is not busy: a second call rings too
    Given users alice, bob, carol and dave
    And carol calls bob
    When alice places a video call to bob
    Then bob sees "call-2: incoming Video call from alice"
    And alice sees:
      """
      call-2: bob ringing
      call-2: status ringing
      """
    When bob accepts call-2
    Then alice sees:
      """
      call-2: bob joined
      call-2: status connecting
      call-2: status connected
      """
    And bob sees:
      """
      call-2: status connecting
      call-2: status connected
      """
    When bob accepts call-1
    Then it fails with 486
    When bob declines call-1 with 486
    Then bob and carol see "call-1: ended, declined by bob (486)"

  Scenario: With call waiting a second call rings on every device and can be taken
    Given users alice, carol and dave
    And user bob with devices phone and tablet
    And bob has call waiting
    And carol calls bob
    And bob/phone accepts
    When alice calls bob
    Then bob/phone and bob/tablet see "call-2: incoming Audio call from alice"
    And alice sees:
      """
      call-2: bob ringing
      call-2: status ringing
      """
    And carol sees nothing
    When bob/tablet accepts call-2
    Then bob/phone sees "call-2: detached, answered on another device"
    And bob/tablet sees:
      """
      call-2: status connecting
      call-2: status connected
      """
    And alice sees:
      """
      call-2: bob joined
      call-2: status connecting
      call-2: status connected
      """
    And call-1 is connected
    And call-2 is connected

  Scenario: A caller in a call cannot place another, unless it has call waiting
    Given users alice, bob, carol and dave
    And carol calls bob
    And bob accepts
    When bob calls alice
    Then it fails with 486
    Given bob has call waiting
    When bob calls alice
    Then alice sees "call-2: incoming Audio call from bob"
    And bob sees:
      """
      call-2: alice ringing
      call-2: status ringing
      """

  Scenario: After the call ends the user can be called again
    Given users alice, bob, carol and dave
    And carol calls bob
    And bob accepts
    When alice calls bob
    Then it fails with 486
    When carol hangs up
    Then bob and carol see "call-1: ended, hung up by carol"
    When alice calls bob
    Then bob sees "call-2: incoming Audio call from alice"
    And alice sees:
      """
      call-2: bob ringing
      call-2: status ringing
      """

  Scenario: Call waiting stops at the per-user call limit
    Given the limit calls_per_user_max is 2
    And users alice, bob, carol, dave and erin
    And bob has call waiting
    And a group team of bob, dave and erin
    And alice calls bob
    And bob accepts
    And carol calls bob
    When dave calls bob
    Then it fails with 486
    When dave places an audio call in team to bob and erin
    Then the busy invitees are bob
    And erin sees "call-3: incoming group Audio call in team from dave"
    And dave sees:
      """
      call-3: erin ringing
      call-3: status ringing
      """
    And bob sees nothing

  Scenario: Live calls on one server are bounded (503)
    Given the limit live_calls_max is 1
    And users alice, bob, carol, dave and erin
    And alice calls bob
    When carol calls erin
    Then it fails with 503 saying "live_calls_max"
    And nobody sees anything more
