@multi-device
Feature: Accepting with several devices
  A user may be signed in on several devices; all of them ring. The first device to answer wins:
  the others are detached ("answered on another device") and hear nothing more of the call; a late
  answer from one of them is refused with 409 (Stringee code 2, answeredOnAnotherDevice).

  Background:
    Given users alice
    And user bob with devices phone, tablet and laptop

  Scenario: The first device to accept wins and the others are detached
    When alice places a video call to bob
    Then bob/phone, bob/tablet and bob/laptop see "call-1: incoming Video call from alice"
    And alice sees:
      """
      call-1: bob ringing
      call-1: status ringing
      """
    When bob/tablet accepts
    Then bob/phone and bob/laptop see "call-1: detached, answered on another device"
    And bob/tablet sees:
      """
      call-1: status connecting
      call-1: status connected
      """
    And alice sees:
      """
      call-1: bob joined
      call-1: status connecting
      call-1: status connected
      """
    When alice hangs up
    Then alice and bob/tablet see "call-1: ended, hung up by alice"
    And bob/phone and bob/laptop see nothing more

  Scenario Outline: A late <operation> from another device is refused with 409
    Given alice places a video call to bob
    And bob/tablet accepts
    When bob/phone <operation>
    Then it fails with 409 saying "handled on another device"
    And nobody sees anything more
    And bob's state in the call is joined

    Examples:
      | operation             |
      | accepts               |
      | declines              |
      | declines with 486     |
      | hangs up              |
      | acknowledges ringing  |
      | starts early media    |
      | mutes audio           |
      | joins                 |

  Scenario: Accepting twice on the same device is refused with 422
    Given alice calls bob
    And bob/laptop accepts
    When bob/laptop accepts
    Then it fails with 422
    When bob/laptop acknowledges ringing
    Then it fails with 422

  Scenario: A 1:1 decline on one device ends the call on every device
    Given alice calls bob
    When bob/laptop declines
    Then alice, bob/phone, bob/tablet and bob/laptop see "call-1: ended, declined by bob (603)"
    When bob/phone accepts
    Then it fails with 410 saying "ended"

  Scenario: In a group call, a decline on one device detaches the user's other devices
    Given users carol
    And a group team of alice, bob and carol
    And alice places an audio call in team to bob and carol
    When bob/phone declines
    Then bob/phone sees "call-1: detached, declined here"
    And bob/tablet and bob/laptop see "call-1: detached, declined on another device"
    And alice sees "call-1: bob declined (603)"
    When bob/tablet accepts
    Then it fails with 409
    When bob/phone declines
    Then it fails with 422

  Scenario: A device that comes online after the answer does not ring
    Given bob/laptop is offline
    And alice calls bob
    And bob/phone accepts
    When bob/laptop comes back online
    Then nobody sees anything more
    When bob/laptop accepts
    Then it fails with 409
